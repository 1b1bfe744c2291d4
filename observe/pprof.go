package observe

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Bounds of the profiles [ProfilingHandler] records over time.
const (
	DefaultProfileSeconds = 30
	MaxProfileSeconds     = 120
)

// ProfilingHandler returns a handler serving the Go runtime's profiles in
// the layout of net/http/pprof, under /debug/pprof/: the index, every named
// profile (heap, goroutine, allocs, block, mutex, threadcreate; ?debug=1 or
// 2 for text), /debug/pprof/profile (CPU, ?seconds=N), /debug/pprof/trace
// (execution trace, ?seconds=N) and /debug/pprof/cmdline, so that `go tool
// pprof http://admin:6060/debug/pprof/heap` works. Timed profiles default
// to 30 seconds and are bounded by 120.
//
// Mount it only on a separate admin listener, bound to loopback or a
// private network, never on the public mux: profiles reveal code paths,
// memory contents and the command line, and a CPU profile costs the
// process while it runs. It is opt-in for that reason; nothing in observe
// serves it by itself. Unlike importing net/http/pprof, building it
// registers nothing on http.DefaultServeMux.
func ProfilingHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/{$}", pprofIndex)
	mux.HandleFunc("GET /debug/pprof/cmdline", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprint(w, strings.Join(os.Args, "\x00"))
	})
	mux.HandleFunc("GET /debug/pprof/profile", func(w http.ResponseWriter, r *http.Request) {
		d, ok := profileSeconds(w, r)
		if !ok {
			return
		}
		var buf bytes.Buffer
		if err := pprof.StartCPUProfile(&buf); err != nil {
			http.Error(w, "Could not start a CPU profile: one is already running.", http.StatusConflict)
			return
		}
		sleep(r, d)
		pprof.StopCPUProfile()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
		_, _ = w.Write(buf.Bytes())
	})
	mux.HandleFunc("GET /debug/pprof/trace", func(w http.ResponseWriter, r *http.Request) {
		d, ok := profileSeconds(w, r)
		if !ok {
			return
		}
		var buf bytes.Buffer
		if err := trace.Start(&buf); err != nil {
			http.Error(w, "Could not start an execution trace: one is already running.", http.StatusConflict)
			return
		}
		sleep(r, d)
		trace.Stop()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="trace"`)
		_, _ = w.Write(buf.Bytes())
	})
	mux.HandleFunc("GET /debug/pprof/{name}", func(w http.ResponseWriter, r *http.Request) {
		p := pprof.Lookup(r.PathValue("name"))
		if p == nil {
			http.Error(w, "Unknown profile.", http.StatusNotFound)
			return
		}
		debug, _ := strconv.Atoi(r.URL.Query().Get("debug"))
		if r.PathValue("name") == "heap" && r.URL.Query().Get("gc") != "" {
			runtime.GC()
		}
		if debug > 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Disposition", `attachment; filename="`+p.Name()+`"`)
		}
		_ = p.WriteTo(w, min(max(debug, 0), 2))
	})
	return mux
}

// profileSeconds reads ?seconds, answering 400 for a bad one.
func profileSeconds(w http.ResponseWriter, r *http.Request) (time.Duration, bool) {
	s := DefaultProfileSeconds
	if v := r.URL.Query().Get("seconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > MaxProfileSeconds {
			http.Error(w, fmt.Sprintf("seconds must be a whole number from 1 to %d.", MaxProfileSeconds), http.StatusBadRequest)
			return 0, false
		}
		s = n
	}
	return time.Duration(s) * time.Second, true
}

// sleep waits d or until the client goes away.
func sleep(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

func pprofIndex(w http.ResponseWriter, _ *http.Request) {
	profiles := pprof.Profiles()
	sort.Slice(profiles, func(i, j int) bool { return profiles[i].Name() < profiles[j].Name() })
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><title>/debug/pprof/</title></head><body><h1>/debug/pprof/</h1><ul>\n")
	for _, p := range profiles {
		n := html.EscapeString(p.Name())
		fmt.Fprintf(&b, "<li>%d <a href=\"%s?debug=1\">%s</a></li>\n", p.Count(), n, n)
	}
	b.WriteString(`<li><a href="profile?seconds=30">profile</a> (CPU, 30s)</li>
<li><a href="trace?seconds=5">trace</a> (execution trace, 5s)</li>
<li><a href="cmdline">cmdline</a></li>
</ul></body></html>
`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
