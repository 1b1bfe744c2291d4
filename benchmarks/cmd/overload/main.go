// Command overload is the overload experiment of issue 28: a handler with a
// fixed capacity (Workers concurrent requests of Service each) is driven by
// an open-loop Poisson load at 1×, 2× and 4× its capacity, with and without
// resilience's adaptive limiter in front (a Shedder), and reports goodput,
// the latency of admitted requests, the share shed, and what each priority
// got. It writes the table to stdout (Markdown) and a latency-over-time plot
// to overload.png. OVERLOAD_TRACE=1 also writes every change of the limit
// and per-priority latencies to stderr.
//
//	cd benchmarks && go run ./cmd/overload -phase 5s -out overload.png
//
// The handler models a server that does not notice that a client gave up:
// a request queued for a worker waits for it whatever its context says, as
// a saturated server's accept queue and scheduler do. Clients give up after
// Timeout; a request answered later is not goodput.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/bedrock-go/bedrock/resilience"
)

// limiterConfig is the limiter's configuration: the zero value (every
// default) unless flags say otherwise.
var limiterConfig resilience.AdaptiveLimiterConfig

type sample struct {
	start    time.Duration // since the phase began
	latency  time.Duration // as the client saw it, capped at the timeout
	priority resilience.Priority
	ok       bool // 200 within the timeout
	shed     bool // refused with 503
}

type phase struct {
	load    float64
	limiter bool
	samples []sample
}

func main() {
	var (
		workers  = flag.Int("workers", 8, "handler capacity: concurrent requests")
		service  = flag.Duration("service", 10*time.Millisecond, "time a worker spends on one request")
		length   = flag.Duration("phase", 5*time.Second, "length of each phase")
		timeout  = flag.Duration("timeout", time.Second, "client timeout")
		out      = flag.String("out", "overload.png", "latency-over-time plot")
		unloaded = flag.Float64("unloaded", 0.25, "load of the phase that measures the unloaded p99")
	)
	flag.Float64Var(&limiterConfig.Alpha, "alpha", 0, "AdaptiveLimiterConfig.Alpha (0: the default)")
	flag.Float64Var(&limiterConfig.Beta, "beta", 0, "AdaptiveLimiterConfig.Beta (0: the default)")
	flag.IntVar(&limiterConfig.MaxQueue, "queue", 0, "AdaptiveLimiterConfig.MaxQueue (0: the default)")
	flag.Parse()
	capacity := float64(*workers) / service.Seconds()

	// The unloaded p99 is measured before, between and after the loaded
	// phases, and the lowest is the reference: on a shared machine one
	// noisy phase must not loosen the target.
	var unloadedP99s []time.Duration
	measureUnloaded := func() {
		p := run(*workers, *service, *length, *timeout, *unloaded, false)
		unloadedP99s = append(unloadedP99s, percentile(admitted(p.samples), 0.99))
	}
	measureUnloaded()
	var phases []phase
	for _, load := range []float64{1, 2, 4} {
		for _, lim := range []bool{false, true} {
			phases = append(phases, run(*workers, *service, *length, *timeout, load, lim))
		}
		if load == 2 {
			measureUnloaded()
		}
	}
	measureUnloaded()
	unloadedP99 := slices.Min(unloadedP99s)

	fmt.Printf("capacity %d concurrent × %v = %.0f req/s; phases of %v; client timeout %v; priorities 10%% critical, 30%% normal, 60%% sheddable\n\n",
		*workers, *service, capacity, *length, *timeout)
	fmt.Printf("unloaded p99 (%.2g× capacity, no limiter; before, between, after): %.1f, %.1f, %.1f ms; the reference is the lowest, %.1f ms\n\n",
		*unloaded, ms(unloadedP99s[0]), ms(unloadedP99s[1]), ms(unloadedP99s[2]), ms(unloadedP99))
	fmt.Println("| load | limiter | offered req/s | goodput req/s | goodput % of capacity | p50 admitted ms | p99 admitted ms | p99 / unloaded p99 | shed % | critical served % | normal served % | sheddable served % |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, p := range phases {
		report(p, *length, capacity, unloadedP99)
	}
	if err := plot(*out, phases, *length, *timeout, unloadedP99); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(workers int, service, length, timeout time.Duration, load float64, limiter bool) phase {
	stop := make(chan struct{})
	sem := make(chan struct{}, workers)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case sem <- struct{}{}:
		case <-stop:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		time.Sleep(service)
		<-sem
	})
	if limiter {
		cfg := limiterConfig
		if os.Getenv("OVERLOAD_TRACE") != "" {
			cfg.Hooks.OnLimitChange = func(c resilience.LimitChange) {
				fmt.Fprintf(os.Stderr, "limit %d→%d lat %v base %v inflight %d queued %d drop %v\n", c.Old, c.New, c.Latency, c.Baseline, c.InFlight, c.Queued, c.Dropped)
			}
		}
		l, err := resilience.NewAdaptiveLimiter(cfg)
		must(err)
		s, err := resilience.NewShedder(l, resilience.ShedderConfig{Priority: priorityOf})
		must(err)
		h = s.Handler(h)
	}
	rate := load * float64(workers) / service.Seconds()
	var (
		mu      sync.Mutex
		samples []sample
		wg      sync.WaitGroup
	)
	rng := rand.New(rand.NewPCG(1, uint64(load*10)))
	begin := time.Now()
	next := time.Duration(0)
	for next < length {
		if d := next - time.Since(begin); d > 0 {
			time.Sleep(d)
		}
		prio := pick(rng.Float64())
		wg.Add(1)
		go func(at time.Duration) {
			defer wg.Done()
			s := serve(h, prio, timeout, begin)
			s.start = at
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
		}(time.Since(begin))
		next += time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
	}
	// Past the phase, let every request still queued give up at once.
	time.Sleep(timeout)
	close(stop)
	wg.Wait()
	return phase{load: load, limiter: limiter, samples: samples}
}

func pick(u float64) resilience.Priority {
	switch {
	case u < 0.1:
		return resilience.PriorityCritical
	case u < 0.4:
		return resilience.PriorityNormal
	}
	return resilience.PrioritySheddable
}

var priorityHeader = map[resilience.Priority]string{
	resilience.PriorityCritical: "critical", resilience.PriorityNormal: "normal", resilience.PrioritySheddable: "sheddable",
}

func priorityOf(r *http.Request) resilience.Priority {
	switch r.Header.Get("Priority-Class") {
	case "critical":
		return resilience.PriorityCritical
	case "sheddable":
		return resilience.PrioritySheddable
	}
	return resilience.PriorityNormal
}

func serve(h http.Handler, prio resilience.Priority, timeout time.Duration, begin time.Time) sample {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	r.Header.Set("Priority-Class", priorityHeader[prio])
	w := httptest.NewRecorder()
	t0 := time.Now()
	h.ServeHTTP(w, r)
	lat := time.Since(t0)
	s := sample{priority: prio, latency: min(lat, timeout)}
	s.ok = w.Code == http.StatusOK && lat <= timeout
	s.shed = w.Code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") != ""
	return s
}

func admitted(ss []sample) []time.Duration {
	var out []time.Duration
	for _, s := range ss {
		if !s.shed {
			out = append(out, s.latency)
		}
	}
	return out
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(math.Ceil(q*float64(len(ds))))-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func report(p phase, length time.Duration, capacity float64, unloadedP99 time.Duration) {
	var good, shed int
	served := map[resilience.Priority][2]int{}
	for _, s := range p.samples {
		c := served[s.priority]
		c[1]++
		if s.ok {
			good++
			c[0]++
		}
		if s.shed {
			shed++
		}
		served[s.priority] = c
	}
	adm := admitted(p.samples)
	p99 := percentile(adm, 0.99)
	share := func(pr resilience.Priority) float64 {
		c := served[pr]
		return 100 * float64(c[0]) / float64(max(c[1], 1))
	}
	goodput := float64(good) / length.Seconds()
	if os.Getenv("OVERLOAD_TRACE") != "" {
		for _, pr := range []resilience.Priority{resilience.PriorityCritical, resilience.PriorityNormal, resilience.PrioritySheddable} {
			var ds []time.Duration
			for _, s := range p.samples {
				if s.priority == pr && !s.shed {
					ds = append(ds, s.latency)
				}
			}
			fmt.Fprintf(os.Stderr, "%v× %v %v: n=%d p50 %.1f p99 %.1f\n", p.load, p.limiter, pr, len(ds), ms(percentile(ds, 0.5)), ms(percentile(ds, 0.99)))
		}
	}
	lim := "no"
	if p.limiter {
		lim = "yes"
	}
	fmt.Printf("| %g× | %s | %.0f | %.0f | %.1f | %.1f | %.1f | %.2f | %.1f | %.1f | %.1f | %.1f |\n",
		p.load, lim, float64(len(p.samples))/length.Seconds(), goodput, 100*goodput/capacity,
		ms(percentile(adm, 0.5)), ms(p99), float64(p99)/float64(unloadedP99), 100*float64(shed)/float64(max(len(p.samples), 1)),
		share(resilience.PriorityCritical), share(resilience.PriorityNormal), share(resilience.PrioritySheddable))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
