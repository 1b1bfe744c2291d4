package authobserve_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/auth/authz"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/authobserve"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "authobserve", map[string]func(metric.MeterProvider) error{
		"failure": func(mp metric.MeterProvider) error { _, err := authobserve.FailureHook(mp); return err },
		"deny":    func(mp metric.MeterProvider) error { _, err := authobserve.DenyHook(mp, "p"); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "authobserve")
	onFailure, err := authobserve.FailureHook(m.MP)
	if err != nil {
		t.Fatal(err)
	}
	onDeny, err := authobserve.DenyHook(m.MP, "orders:write")
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	expired := fmt.Errorf("x: %w", token.ErrExpired)
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"auth failure": func() { onFailure(r, expired) },
		"authz deny":   func() { onDeny(r, authz.Decision{Reason: authz.ReasonDefaultDeny}) },
	})
}
