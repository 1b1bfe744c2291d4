package payment

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Fault modes of the fake payment service.
const (
	FaultNone  = "none"  // answer normally
	FaultError = "error" // answer 503
	FaultSlow  = "slow"  // answer after 3s, past the client's timeout
)

// Fake is an in-process payment service for development and tests. It
// charges each Idempotency-Key once.
type Fake struct {
	fault   atomic.Value // string
	mu      sync.Mutex
	charges map[string]string
	srv     *http.Server
	url     string
	done    chan struct{}
}

// StartFake starts the fake on a random local port; Close stops it.
func StartFake() (*Fake, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &Fake{charges: map[string]string{}, url: "http://" + ln.Addr().String(), done: make(chan struct{})}
	f.fault.Store(FaultNone)
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(f.done)
		_ = f.srv.Serve(ln)
	}()
	return f, nil
}

// URL is the base URL of the fake.
func (f *Fake) URL() string { return f.url }

// SetFault switches the fault mode; an unknown mode is an error.
func (f *Fake) SetFault(mode string) error {
	switch mode {
	case FaultNone, FaultError, FaultSlow:
		f.fault.Store(mode)
		return nil
	}
	return errors.New("payment: unknown fault mode " + strconv.Quote(mode))
}

// Fault returns the current fault mode.
func (f *Fake) Fault() string { return f.fault.Load().(string) }

// Close stops the fake and waits for it.
func (f *Fake) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := f.srv.Shutdown(ctx)
	<-f.done
	return err
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/charges" {
		http.NotFound(w, r)
		return
	}
	switch f.Fault() {
	case FaultError:
		http.Error(w, "injected failure", http.StatusServiceUnavailable)
		return
	case FaultSlow:
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
			return
		}
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		http.Error(w, "Idempotency-Key required", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	id, ok := f.charges[key]
	if !ok {
		id = "ch_" + strconv.Itoa(len(f.charges)+1)
		f.charges[key] = id
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
}
