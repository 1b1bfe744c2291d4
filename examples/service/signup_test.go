package main

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bedrock-go/bedrock/auth/password"
	"github.com/bedrock-go/bedrock/ratelimit"

	"github.com/bedrock-go/bedrock/examples/service/internal/app"
)

// signupFrom attempts a signup as the client at ip (behind the trusted
// proxy) and returns the answer.
func (s *service) signupFrom(ip, email, pw string) response {
	s.t.Helper()
	return s.do("POST", "/v1/auth/signup", map[string]string{"email": email, "password": pw, "name": "N"}, "X-Forwarded-For", ip)
}

// TestSignupLimits: signups are limited per client address, every request
// counted, and all together by a ceiling on the signups that get as far as
// hashing a password. Requests refused for cheap reasons (a broken form, an
// email already taken) never reach hashing, so they do not count against
// the ceiling and are still answered when it is reached.
func TestSignupLimits(t *testing.T) {
	s := startServiceWith(t, func(o *app.Options) {
		o.SignupPerIP = ratelimit.Limit{Rate: 3, Period: time.Hour}
		o.SignupCeiling = ratelimit.Limit{Rate: 4, Period: time.Hour}
	})
	const good = "correct horse battery"
	status := func(r response) int { return r.StatusCode }

	assert.Equal(t, http.StatusCreated, status(s.signupFrom("203.0.113.1", "a1@shop.test", good)))
	assert.Equal(t, http.StatusCreated, status(s.signupFrom("203.0.113.1", "a2@shop.test", good)))
	assert.Equal(t, http.StatusUnprocessableEntity, status(s.signupFrom("203.0.113.1", "a3@shop.test", "short")))
	r := s.signupFrom("203.0.113.1", "a4@shop.test", good)
	assert.Equal(t, http.StatusTooManyRequests, r.StatusCode, "the client's fourth request: %s", r.body)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))

	assert.Equal(t, http.StatusConflict, status(s.signupFrom("198.51.100.1", "a1@shop.test", good)))
	assert.Equal(t, http.StatusCreated, status(s.signupFrom("198.51.100.1", "b1@shop.test", good)))
	assert.Equal(t, http.StatusCreated, status(s.signupFrom("198.51.100.1", "b2@shop.test", good)), "the conflict did not count against the ceiling")

	r = s.signupFrom("192.0.2.1", "c1@shop.test", good)
	assert.Equal(t, http.StatusTooManyRequests, r.StatusCode, "the ceiling of all clients: %s", r.body)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	assert.Equal(t, http.StatusUnprocessableEntity, status(s.signupFrom("192.0.2.1", "c1@shop.test", "short")), "cheap refusals still answered")
	assert.Equal(t, http.StatusConflict, status(s.signupFrom("192.0.2.1", "b1@shop.test", good)))

	var n int
	require.NoError(t, s.pool.QueryRow(t.Context(), `SELECT count(*) FROM users`).Scan(&n))
	assert.Equal(t, 4, n)
}

// TestSignupsDoNotStarveLogin runs 16 signups at once with real argon2id
// parameters and, once all of them hold or wait for a hashing slot, logs in.
// Signups hold at most their share of the hasher's slots (here one), so the
// login finds a free one and does not queue behind them: it must return before
// half of them are done (one to three are: a login costs about one hash),
// where a shared budget makes it wait for nearly all (14 to 16). The
// latencies are logged, not asserted, since timing belongs in benchmarks;
// the order of completion is what the test holds to.
func TestSignupsDoNotStarveLogin(t *testing.T) {
	const signups = 16
	hashing := make(chan struct{}, signups+1)
	s := startServiceWith(t, func(o *app.Options) {
		o.OnSignupHash = func() { hashing <- struct{}{} }
		// Real argon2id, cheaper than DefaultParams to keep the test short,
		// yet a hash must cost more than a login's other work (HTTP, Redis,
		// PostgreSQL): with 16 MiB × 6 passes, on one P, sixteen signups
		// hashed one after another finished within one login, and the
		// completion order below said nothing (a CI run with -cpu=1 failed).
		o.PasswordParams = password.Params{Memory: 64 << 10, Time: 4, Threads: 1, SaltLen: 16, KeyLen: 32}
		o.SignupHashing = 1
		o.SignupHashWaiting = signups // all of them queue here; by default the excess gets 503 at once
		o.SignupPerIP, o.SignupCeiling = ratelimit.PerMinute(1000), ratelimit.PerMinute(1000)
		o.LoginPerEmailClient, o.LoginPerEmail = ratelimit.PerMinute(1000), ratelimit.PerMinute(1000)
	})
	s.signup("busy@shop.test", "Busy")
	<-hashing
	login := func() time.Duration {
		start := time.Now()
		s.login("busy@shop.test")
		return time.Since(start)
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }

	var idle []time.Duration
	for range 5 {
		idle = append(idle, login())
	}

	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for i := range signups {
		wg.Go(func() {
			r := s.do("POST", "/v1/auth/signup", map[string]string{
				"email": fmt.Sprintf("rush%d@shop.test", i), "password": "correct horse battery", "name": "R"})
			assert.Equal(t, http.StatusCreated, r.StatusCode, "%s", r.body)
			mu.Lock()
			done++
			mu.Unlock()
		})
	}
	// Every signup has reached its hash: all but one wait for the slot.
	// Log in while they run.
	for range signups {
		<-hashing
	}
	var loaded []time.Duration
	doneAtFirstLogin := -1
	for range 5 {
		loaded = append(loaded, login())
		mu.Lock()
		n := done
		mu.Unlock()
		if doneAtFirstLogin < 0 {
			doneAtFirstLogin = n
		}
		if n == signups {
			break
		}
	}
	wg.Wait()

	t.Logf("login median: %v idle, %v while %d signups hash (ratio %.2f, first %v); signups done when the first login under load returned: %d",
		median(idle), median(loaded), signups, float64(median(loaded))/float64(median(idle)), loaded[0], doneAtFirstLogin)
	assert.Less(t, doneAtFirstLogin, signups/2, "the login waited for the signups' hashing")
}
