package config

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Shed configures the load shedder in front of the API: an adaptive
// concurrency limit that learns the service's capacity from its latency,
// and refuses the excess with 503 and Retry-After, list endpoints first,
// while health checks and login keep flowing. The zero value sheds with
// the defaults below.
type Shed struct {
	// Disabled turns the shedder off (SHED_ENABLED=false; on by default).
	Disabled bool
	// InitialLimit and MaxLimit are where the concurrency limit starts and
	// the highest it goes (SHED_INITIAL_LIMIT, 20; SHED_MAX_LIMIT, 1000).
	InitialLimit, MaxLimit int
	// MaxQueue is how many requests may wait for a slot (SHED_MAX_QUEUE):
	// 0, the default, is a quarter of the current limit; -1 queues none.
	// Health checks and login may queue up to twice the limit regardless.
	MaxQueue int
	// MaxWait bounds how long a queued request waits (SHED_MAX_WAIT, a
	// duration): 0, the default, is the service's latency when unloaded
	// (health checks and login then wait as long as their client does); a
	// negative duration makes every request wait as long as its client
	// does.
	MaxWait time.Duration
	// RetryAfter is what a refused client is asked to wait
	// (SHED_RETRY_AFTER, 1s), sent in whole seconds.
	RetryAfter time.Duration
}

// loadShed reads SHED_*. A value that is not a number, a negative limit or
// an initial limit above the maximum stops the start.
func (c *Config) loadShed(getenv func(string) string) error {
	var errs []error
	if v := getenv("SHED_ENABLED"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SHED_ENABLED must be true or false, not %q", v))
		}
		c.Shed.Disabled = !on
	}
	integer := func(name string, lowest int) int {
		v := getenv(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lowest {
			errs = append(errs, fmt.Errorf("%s must be an integer of at least %d, not %q", name, lowest, v))
		}
		return n
	}
	c.Shed.InitialLimit = integer("SHED_INITIAL_LIMIT", 1)
	c.Shed.MaxLimit = integer("SHED_MAX_LIMIT", 1)
	c.Shed.MaxQueue = integer("SHED_MAX_QUEUE", -1)
	switch most := cmp.Or(c.Shed.MaxLimit, 1000); {
	case c.Shed.InitialLimit == 0 && most < 20:
		c.Shed.InitialLimit = most // a maximum below the default start starts there
	case c.Shed.InitialLimit > most && len(errs) == 0:
		errs = append(errs, fmt.Errorf("SHED_INITIAL_LIMIT %d exceeds SHED_MAX_LIMIT %d", c.Shed.InitialLimit, most))
	}
	if v := getenv("SHED_MAX_WAIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SHED_MAX_WAIT must be a duration such as 50ms (negative: as long as the client waits), not %q", v))
		}
		c.Shed.MaxWait = d
	}
	var err error
	if c.Shed.RetryAfter, err = duration(getenv, "SHED_RETRY_AFTER", time.Second); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
