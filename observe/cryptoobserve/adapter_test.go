package cryptoobserve_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/metric"

	bcrypto "github.com/bedrock-go/bedrock/crypto"
	"github.com/bedrock-go/bedrock/internal/otelhook/otelhooktest"
	"github.com/bedrock-go/bedrock/observe/cryptoobserve"
)

func TestAdapters_FailCleanlyAndDefaultToTheGlobalProvider(t *testing.T) {
	otelhooktest.CheckAdapters(t, "cryptoobserve", map[string]func(metric.MeterProvider) error{
		"keyring":  func(mp metric.MeterProvider) error { _, err := cryptoobserve.KeyRingHooks(mp, "x"); return err },
		"envelope": func(mp metric.MeterProvider) error { _, err := cryptoobserve.EnvelopeHooks(mp); return err },
	})
}

func TestAdapters_HookCallsDoNotAllocate(t *testing.T) {
	m := otelhooktest.NewRecorder(t, "cryptoobserve")
	ring, err := cryptoobserve.KeyRingHooks(m.MP, "pii")
	require.NoError(t, err)
	envelope, err := cryptoobserve.EnvelopeHooks(m.MP)
	require.NoError(t, err)
	otelhooktest.AssertNoAllocs(t, map[string]func(){
		"open failed": func() { ring.OnOpenFailure(bcrypto.ErrDecrypt) },
		"wrapped":     func() { envelope.OnWrap(nil) },
		"cache hit":   func() { envelope.OnCacheHit(true) },
	})
}
