package app

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bedrock-go/bedrock/resilience"
)

func TestPriority_HealthAndLoginCriticalListsSheddable(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         resilience.Priority
	}{
		{"GET", "/livez", resilience.PriorityCritical},
		{"GET", "/readyz", resilience.PriorityCritical},
		{"HEAD", "/readyz", resilience.PriorityCritical},
		{"POST", "/v1/auth/login", resilience.PriorityCritical},
		{"GET", "/v1/products", resilience.PrioritySheddable},
		{"HEAD", "/v1/products", resilience.PrioritySheddable},
		{"GET", "/v0/products", resilience.PrioritySheddable},
		{"GET", "/v1/orders", resilience.PrioritySheddable},
		{"GET", "/v1/apikeys", resilience.PrioritySheddable},
		{"GET", "/v1/products/42", resilience.PriorityNormal},
		{"GET", "/v1/orders/7", resilience.PriorityNormal},
		{"GET", "/v1/me", resilience.PriorityNormal},
		{"POST", "/v1/products", resilience.PriorityNormal},
		{"POST", "/v1/orders", resilience.PriorityNormal},
		{"POST", "/v1/auth/signup", resilience.PriorityNormal},
		{"POST", "/v1/auth/refresh", resilience.PriorityNormal},
		{"GET", "/v1/auth/login", resilience.PriorityNormal},
		{"POST", "/readyz", resilience.PriorityNormal},
		{"GET", "/metrics", resilience.PriorityNormal},
		{"GET", "/v1/products/", resilience.PriorityNormal},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			assert.Equal(t, tc.want, priority(httptest.NewRequest(tc.method, tc.path, nil)))
		})
	}
}
