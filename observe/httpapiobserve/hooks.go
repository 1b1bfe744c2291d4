package httpapiobserve

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/internal/otelhook"
)

const (
	attrDeprecation = attribute.Key("bedrock.httpapi.deprecation")
	attrGone        = attribute.Key("bedrock.httpapi.gone")
)

// callKey is one attribute set: a deprecation's name and whether the call
// came after its sunset.
type callKey struct {
	name string
	gone bool
}

// Hooks returns hooks that count calls to deprecated routes as
// bedrock.httpapi.deprecated_calls ({request}, counter), with
// bedrock.httpapi.deprecation (DeprecationConfig.Name) and
// bedrock.httpapi.gone (true when the call came after the sunset and was
// answered 410). Names are configuration, so the series are few; past
// otelhook's bound of distinct names, new ones are counted as "_OTHER".
// One Hooks value can serve every Deprecation of a service. A nil mp
// means the global provider. It fails only if the instrument cannot be
// created.
func Hooks(mp metric.MeterProvider) (httpapi.Hooks, error) {
	b := otelhook.New(mp, "httpapiobserve")
	calls := b.Counter("bedrock.httpapi.deprecated_calls", "{request}", "Calls to deprecated routes, by deprecation and whether past the sunset.")
	if err := b.Check("httpapi"); err != nil {
		return httpapi.Hooks{}, err
	}
	sets := otelhook.NewBoundedSets(func(k callKey) otelhook.Opts {
		return otelhook.OptsOf(attrDeprecation.String(k.name), attrGone.Bool(k.gone))
	}, func(k callKey) callKey { k.name = "_OTHER"; return k })
	return httpapi.Hooks{
		OnDeprecatedCall: func(r *http.Request, c httpapi.DeprecatedCall) {
			calls.Add(r.Context(), 1, sets.Get(callKey{c.Name, c.Gone}).Add...)
		},
	}, nil
}
