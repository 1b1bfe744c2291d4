package servicetest

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInCI(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  bool
	}{{"", false}, {"0", false}, {"false", false}, {"true", true}, {"1", true}, {"yes", true}} {
		t.Run("CI="+tt.value, func(t *testing.T) {
			t.Setenv("CI", tt.value)
			assert.Equal(t, tt.want, InCI())
		})
	}
}

// TestUniqueIsAnIdentifier checks that names are valid unquoted PostgreSQL
// identifiers and Redis prefixes free of glob characters, and differ.
func TestUniqueIsAnIdentifier(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	t.Run("A very long test name, with Capitals/Slashes and * [glob] ? characters, longer than sixty-three bytes", func(t *testing.T) {
		a, b := Unique(t, "shop_"), Unique(t, "shop_")
		assert.Regexp(t, valid, a)
		assert.NotEqual(t, a, b)
	})
}

func TestRedisClusterAddrs(t *testing.T) {
	t.Setenv("REDIS_CLUSTER_ADDRS", " 10.0.0.1:7000, ,10.0.0.2:7001 ")
	assert.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7001"}, RedisClusterAddrs())
	t.Setenv("REDIS_CLUSTER_ADDRS", "")
	assert.Len(t, RedisClusterAddrs(), 6)
}
