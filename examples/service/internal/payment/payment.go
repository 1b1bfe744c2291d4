// Package payment charges orders through an external payment HTTP service,
// behind retry, circuit breaker and timeout, and provides the in-process
// fake of that service that the service runs in development, with faults
// that can be switched on at run time.
package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/observe/resilienceobserve"
	"github.com/bedrock-go/bedrock/resilience"
)

// ErrDeclined is a charge the payment service refused for good (4xx): it is
// not retried and does not count against the service's health.
var ErrDeclined = errors.New("payment: declined")

// Client charges orders.
type Client struct {
	reg      metric.Registration
	url      string
	http     *http.Client
	breaker  *resilience.Breaker
	pipeline *resilience.Pipeline[string]
}

// NewClient returns a client of the payment service at baseURL that sends
// its requests with hc, which decides where it may connect (the service
// gives it an httpsec.Outbound's client). Each charge
// gets 3 attempts with jittered backoff, each bounded by a 1s timeout; the
// breaker opens at 50% failures over the last 10 calls and fails fast for
// openFor (5s when zero), so that an outage costs callers nothing but a
// fallback. Breaker and retry metrics go to mp (the global provider when
// nil); Close unregisters them.
func NewClient(baseURL string, hc *http.Client, openFor time.Duration, mp metric.MeterProvider) (*Client, error) {
	if hc == nil {
		return nil, errors.New("payment: NewClient needs an http.Client")
	}
	if openFor == 0 {
		openFor = 5 * time.Second
	}
	breakerHooks, err := resilienceobserve.BreakerHooks(mp, "payments")
	if err != nil {
		return nil, err
	}
	retryHooks, err := resilienceobserve.RetryHooks(mp, "payments")
	if err != nil {
		return nil, err
	}
	breaker, err := resilience.NewBreaker(resilience.BreakerConfig{Hooks: breakerHooks,
		WindowSize: 10, MinimumCalls: 4, FailureRateThreshold: 0.5, OpenDuration: openFor,
		Classify: func(err error) resilience.Outcome {
			if errors.Is(err, ErrDeclined) {
				return resilience.OutcomeSuccess // the service answered; the card did not
			}
			return resilience.DefaultClassify(err)
		},
	})
	if err != nil {
		return nil, err
	}
	retry, err := resilience.NewRetry(resilience.RetryConfig{Hooks: retryHooks, MaxAttempts: 3, InitialDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	timeout, err := resilience.NewTimeout(resilience.TimeoutConfig{Duration: time.Second})
	if err != nil {
		return nil, err
	}
	p, err := resilience.NewPipeline[string](retry, breaker, timeout)
	if err != nil {
		return nil, err
	}
	reg, err := resilienceobserve.Breaker(mp, "payments", breaker)
	if err != nil {
		return nil, err
	}
	return &Client{reg: reg, url: baseURL, http: hc, breaker: breaker, pipeline: p}, nil
}

// Close unregisters the breaker's gauges.
func (c *Client) Close() error { return c.reg.Unregister() }

// BreakerState returns the breaker's state, for health and admin views.
func (c *Client) BreakerState() resilience.State { return c.breaker.State() }

// Charge charges amountCents for orderID and returns the charge id. The
// order id is the Idempotency-Key of the request, so that a retry after a
// lost answer never charges twice. An open breaker fails at once with an
// error matching resilience.ErrOpen.
func (c *Client) Charge(ctx context.Context, orderID, amountCents int64) (string, error) {
	body, _ := json.Marshal(map[string]int64{"order_id": orderID, "amount_cents": amountCents})
	return c.pipeline.Execute(ctx, func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/charges", bytes.NewReader(body))
		if err != nil {
			return "", resilience.Permanent(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "order-"+strconv.FormatInt(orderID, 10))
		resp, err := c.http.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		switch {
		case resp.StatusCode >= 500:
			return "", fmt.Errorf("payment: service answered %d", resp.StatusCode)
		case resp.StatusCode >= 400:
			return "", resilience.Permanent(fmt.Errorf("%w: %d", ErrDeclined, resp.StatusCode))
		}
		var out struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
			return "", fmt.Errorf("payment: bad answer %q", data)
		}
		return out.ID, nil
	})
}
