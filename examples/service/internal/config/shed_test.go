package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/examples/service/internal/config"
)

func TestLoad_Shed(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want config.Shed
	}{
		{"on with the limiter's defaults", nil, config.Shed{RetryAfter: time.Second}},
		{"off", map[string]string{"SHED_ENABLED": "false"}, config.Shed{Disabled: true, RetryAfter: time.Second}},
		{"every setting", map[string]string{"SHED_ENABLED": "true", "SHED_INITIAL_LIMIT": "8", "SHED_MAX_LIMIT": "64",
			"SHED_MAX_QUEUE": "-1", "SHED_MAX_WAIT": "50ms", "SHED_RETRY_AFTER": "5s"},
			config.Shed{InitialLimit: 8, MaxLimit: 64, MaxQueue: -1, MaxWait: 50 * time.Millisecond, RetryAfter: 5 * time.Second}},
		{"waiting as long as the client", map[string]string{"SHED_MAX_WAIT": "-1s"},
			config.Shed{MaxWait: -time.Second, RetryAfter: time.Second}},
		{"a maximum below the default start starts there", map[string]string{"SHED_MAX_LIMIT": "4"},
			config.Shed{InitialLimit: 4, MaxLimit: 4, RetryAfter: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(func(name string) string { return tc.env[name] })
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Shed)
		})
	}
}

func TestLoad_ShedRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"enabled not a boolean", "SHED_ENABLED", "yes please", "SHED_ENABLED must be true or false"},
		{"a limit not a number", "SHED_MAX_LIMIT", "many", "SHED_MAX_LIMIT must be an integer of at least 1"},
		{"a zero limit", "SHED_INITIAL_LIMIT", "0", "SHED_INITIAL_LIMIT must be an integer of at least 1"},
		{"a start above the default maximum", "SHED_INITIAL_LIMIT", "2000", "SHED_INITIAL_LIMIT 2000 exceeds SHED_MAX_LIMIT 1000"},
		{"a queue below -1", "SHED_MAX_QUEUE", "-2", "SHED_MAX_QUEUE must be an integer of at least -1"},
		{"a wait not a duration", "SHED_MAX_WAIT", "5", "SHED_MAX_WAIT must be a duration"},
		{"a negative retry", "SHED_RETRY_AFTER", "-1s", "SHED_RETRY_AFTER must be a positive duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(func(name string) string { return map[string]string{tc.key: tc.value}[name] })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
