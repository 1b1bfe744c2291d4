// Package authobserve turns the refusals of
// [github.com/bedrock-go/bedrock/auth] and its authorizer,
// [github.com/bedrock-go/bedrock/auth/authz], into OpenTelemetry metrics
// and span events.
//
//	onFailure, err := authobserve.FailureHook(mp)
//	authn, err := auth.Middleware(auth.MiddlewareConfig{..., OnFailure: onFailure})
//
// Reasons come from the sentinels of auth/token, auth/apikey and
// auth/session; credentials, subjects and error text are never recorded.
// Like every adapter under observe/, it builds its instruments and
// attribute sets once, so a hook call allocates nothing, and a nil meter
// provider means the global one (which observe.Setup installs).
package authobserve
