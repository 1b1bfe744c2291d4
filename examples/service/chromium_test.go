package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chromium is a headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe): commands go to its fd 3 and replies and
// events come from its fd 4, each a JSON message ended by a NUL byte. No
// port to discover, nothing listening on the machine, no websocket and no
// client library: encoding/json is enough for the few commands used here.
type chromium struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *syncBuffer   // the browser's own stdout and stderr
	exited chan struct{} // closed once the process has been waited for

	writeMu sync.Mutex
	pipe    *os.File // commands to the browser

	mu          sync.Mutex
	nextID      int64
	pending     map[int64]chan cdpMessage
	readerGone  chan struct{}
	session     string
	done        map[string]chan struct{}   // page name -> closed on its done marker
	requests    map[string]*browserRequest // by the browser's request id
	preflightOf map[string]string          // preflight request id -> its request's id
	console     []string                   // console messages and exceptions, for the test log
	changed     chan struct{}              // closed and replaced whenever an event is recorded
}

// browserRequest is what the browser's network log says of one request a
// page made.
type browserRequest struct {
	URL, Method string
	Status      int // 0 when no response reached the page
	// CORSError and CORSParameter are the browser's reason for refusing
	// the response, as its console reports it ("MethodDisallowedByPreflightResponse", "PATCH").
	CORSError, CORSParameter string
	BlockedReason            string // e.g. a Cross-Origin-Resource-Policy refusal
	Preflight                *browserResponse
}

type browserResponse struct {
	Status int
	Header http.Header
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startChromium starts the browser with a fresh profile and opens one tab
// with the network, console and page domains enabled. The browser is closed
// when the test ends.
func startChromium(t *testing.T, path string) *chromium {
	t.Helper()
	profile := t.TempDir()
	toBrowser, commands, err := os.Pipe()
	require.NoError(t, err)
	events, fromBrowser, err := os.Pipe()
	require.NoError(t, err)
	c := &chromium{
		t: t, out: &syncBuffer{}, exited: make(chan struct{}), pipe: commands,
		pending: map[int64]chan cdpMessage{}, readerGone: make(chan struct{}), done: map[string]chan struct{}{},
		requests: map[string]*browserRequest{}, preflightOf: map[string]string{}, changed: make(chan struct{}),
	}
	c.cmd = exec.Command(path,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		// Containers often have a small /dev/shm; the browser then crashes
		// under load unless it uses the temporary directory instead.
		"--disable-dev-shm-usage",
		"--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")
	c.cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser} // fds 3 and 4
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	// Renderer processes inherit the output pipe; do not wait forever for
	// one that outlives the browser.
	c.cmd.WaitDelay = 10 * time.Second
	require.NoError(t, c.cmd.Start())
	toBrowser.Close()
	fromBrowser.Close()
	go func() {
		_ = c.cmd.Wait()
		close(c.exited)
	}()
	go c.read(events)
	t.Cleanup(c.close) // runs before the profile directory is removed

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var target struct {
		TargetID string `json:"targetId"`
	}
	c.call(ctx, "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	c.call(ctx, "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	c.mu.Lock()
	c.session = attached.SessionID
	c.mu.Unlock()
	for _, domain := range []string{"Network", "Runtime", "Log", "Page"} {
		c.call(ctx, domain+".enable", map[string]any{}, nil)
	}
	return c
}

// open navigates the tab to pageURL, waits for the page named name to log
// its done marker, and returns the JSON the page wrote into #results.
func (c *chromium) open(ctx context.Context, pageURL, name string) map[string]any {
	c.t.Helper()
	done := make(chan struct{})
	c.mu.Lock()
	c.done[name] = done
	c.mu.Unlock()
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	c.call(ctx, "Page.navigate", map[string]any{"url": pageURL}, &nav)
	require.Empty(c.t, nav.ErrorText, "navigating to %s", pageURL)
	select {
	case <-done:
	case <-ctx.Done():
		c.t.Fatalf("the %s page did not finish: %v\nconsole:\n%s", name, ctx.Err(), c.consoleLog())
	case <-c.readerGone:
		c.t.Fatalf("the browser went away during the %s page\n%s", name, c.out.String())
	}
	var eval struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	c.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": `document.getElementById('results').textContent`, "returnByValue": true,
	}, &eval)
	var results map[string]any
	require.NoError(c.t, json.Unmarshal([]byte(eval.Result.Value), &results), "results of the %s page: %q", name, eval.Result.Value)
	return results
}

// request waits until the browser's record of the one request whose URL
// carries ?probe=name satisfies complete, and returns it. The network
// events come from the browser process and the page's done marker from
// the renderer, so they may arrive in either order.
func (c *chromium) request(ctx context.Context, name string, complete func(browserRequest) bool) browserRequest {
	c.t.Helper()
	for {
		c.mu.Lock()
		var found []browserRequest
		for _, r := range c.requests {
			if u, err := url.Parse(r.URL); err == nil && u.Query().Get("probe") == name {
				found = append(found, *r)
			}
		}
		changed := c.changed
		c.mu.Unlock()
		require.LessOrEqual(c.t, len(found), 1, "requests probed %q", name)
		if len(found) == 1 && complete(found[0]) {
			return found[0]
		}
		select {
		case <-changed:
		case <-ctx.Done():
			c.t.Fatalf("the browser's record of the request probed %q is incomplete: %+v (%v)", name, found, ctx.Err())
		}
	}
}

func (c *chromium) consoleLog() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.console, "\n")
}

// call sends a command (to the tab once one is attached) and decodes its
// result into result, failing the test on an error or a timeout.
func (c *chromium) call(ctx context.Context, method string, params any, result any) {
	c.t.Helper()
	raw, err := c.send(ctx, method, params)
	require.NoError(c.t, err, method)
	if result != nil {
		require.NoError(c.t, json.Unmarshal(raw, result), method)
	}
}

func (c *chromium) send(ctx context.Context, method string, params any) (json.RawMessage, error) {
	p, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	reply := make(chan cdpMessage, 1)
	c.mu.Lock()
	c.nextID++
	msg := cdpMessage{ID: c.nextID, Method: method, Params: p, SessionID: c.session}
	if strings.HasPrefix(method, "Target.") || strings.HasPrefix(method, "Browser.") {
		msg.SessionID = "" // browser-wide commands
	}
	c.pending[msg.ID] = reply
	c.mu.Unlock()
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	c.writeMu.Lock()
	_, err = c.pipe.Write(append(data, 0))
	c.writeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", method, err)
	}
	select {
	case m := <-reply:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-c.readerGone:
		return nil, fmt.Errorf("%s: the browser closed the pipe", method)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// read delivers replies to their callers and records events, until the
// browser closes its end of the pipe.
func (c *chromium) read(events io.ReadCloser) {
	defer close(c.readerGone)
	defer events.Close()
	br := bufio.NewReader(events)
	for {
		data, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(data[:len(data)-1], &m) != nil {
			continue
		}
		c.mu.Lock()
		if m.ID != 0 {
			if reply, ok := c.pending[m.ID]; ok {
				delete(c.pending, m.ID)
				reply <- m
			}
		} else {
			c.record(m)
			close(c.changed)
			c.changed = make(chan struct{})
		}
		c.mu.Unlock()
	}
}

// record keeps what the test reads from the events. Called with c.mu held.
func (c *chromium) record(m cdpMessage) {
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Args []struct {
				Value any `json:"value"`
			} `json:"args"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if len(p.Args) == 0 {
			return
		}
		text := fmt.Sprint(p.Args[0].Value)
		c.console = append(c.console, "console: "+text)
		if name, ok := strings.CutPrefix(text, "bedrock-browser-test:done:"); ok {
			if done, ok := c.done[name]; ok {
				close(done)
				delete(c.done, name)
			}
		}
	case "Runtime.exceptionThrown", "Log.entryAdded":
		c.console = append(c.console, m.Method+": "+string(m.Params))
	case "Network.requestWillBeSent":
		var p struct {
			RequestID string `json:"requestId"`
			Request   struct {
				URL    string `json:"url"`
				Method string `json:"method"`
			} `json:"request"`
			Initiator struct {
				Type      string `json:"type"`
				RequestID string `json:"requestId"`
			} `json:"initiator"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Initiator.Type == "preflight" {
			c.preflightOf[p.RequestID] = p.Initiator.RequestID
			return
		}
		r := c.entry(p.RequestID)
		r.URL, r.Method = p.Request.URL, p.Request.Method
	case "Network.responseReceived":
		var p struct {
			RequestID string `json:"requestId"`
			Type      string `json:"type"`
			Response  struct {
				Status  int               `json:"status"`
				Headers map[string]string `json:"headers"`
			} `json:"response"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Type != "Preflight" {
			c.entry(p.RequestID).Status = p.Response.Status
			return
		}
		h := http.Header{}
		for k, v := range p.Response.Headers {
			h.Set(k, v)
		}
		if id, ok := c.preflightOf[p.RequestID]; ok {
			c.entry(id).Preflight = &browserResponse{Status: p.Response.Status, Header: h}
		}
	case "Network.loadingFailed":
		var p struct {
			RequestID       string `json:"requestId"`
			BlockedReason   string `json:"blockedReason"`
			CORSErrorStatus struct {
				CORSError       string `json:"corsError"`
				FailedParameter string `json:"failedParameter"`
			} `json:"corsErrorStatus"`
		}
		_ = json.Unmarshal(m.Params, &p)
		r := c.entry(p.RequestID)
		r.CORSError, r.CORSParameter, r.BlockedReason = p.CORSErrorStatus.CORSError, p.CORSErrorStatus.FailedParameter, p.BlockedReason
	}
}

// entry returns the record of a request, creating it: a preflight's events
// can arrive before those of the request it precedes. Called with c.mu held.
func (c *chromium) entry(id string) *browserRequest {
	r, ok := c.requests[id]
	if !ok {
		r = &browserRequest{}
		c.requests[id] = r
	}
	return r
}

// close asks the browser to quit, which ends its child processes too, and
// kills the process it started only if it does not.
func (c *chromium) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The reply may never come: the browser can close the pipe first.
	_, _ = c.send(ctx, "Browser.close", map[string]any{})
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	c.pipe.Close()
	if c.t.Failed() {
		c.t.Logf("browser console:\n%s\nbrowser output:\n%s", c.consoleLog(), c.out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the browser's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
