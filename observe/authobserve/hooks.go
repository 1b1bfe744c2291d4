package authobserve

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/auth/apikey"
	"github.com/bedrock-go/bedrock/auth/authz"
	"github.com/bedrock-go/bedrock/auth/session"
	"github.com/bedrock-go/bedrock/auth/token"
	"github.com/bedrock-go/bedrock/internal/otelhook"
)

// Attribute keys of the auth adapters.
const (
	attrAuthReason      = attribute.Key("bedrock.auth.reason")
	attrAuthzReason     = attribute.Key("bedrock.authz.reason")
	attrAuthzPermission = attribute.Key("bedrock.authz.permission")
)

// authFailureClasses lists the refusal reasons, the most specific sentinel
// first: several token sentinels wrap ErrMalformed, and every one
// wraps auth.ErrInvalidCredential.
func authFailureClasses() []otelhook.ErrorClass {
	return otelhook.WithContextClasses(
		otelhook.ErrorClass{Err: token.ErrAlgorithm, Reason: "token_algorithm"},
		otelhook.ErrorClass{Err: token.ErrHeader, Reason: "token_header"},
		otelhook.ErrorClass{Err: token.ErrMissingClaim, Reason: "token_missing_claim"},
		otelhook.ErrorClass{Err: token.ErrMalformed, Reason: "token_malformed"},
		otelhook.ErrorClass{Err: token.ErrSignature, Reason: "token_signature"},
		otelhook.ErrorClass{Err: token.ErrExpired, Reason: "token_expired"},
		otelhook.ErrorClass{Err: token.ErrNotYetValid, Reason: "token_not_yet_valid"},
		otelhook.ErrorClass{Err: token.ErrAudience, Reason: "token_audience"},
		otelhook.ErrorClass{Err: token.ErrIssuer, Reason: "token_issuer"},
		otelhook.ErrorClass{Err: token.ErrType, Reason: "token_type"},
		otelhook.ErrorClass{Err: token.ErrUnknownKey, Reason: "token_unknown_key"},
		otelhook.ErrorClass{Err: apikey.ErrMalformed, Reason: "apikey_malformed"},
		otelhook.ErrorClass{Err: apikey.ErrChecksum, Reason: "apikey_checksum"},
		otelhook.ErrorClass{Err: apikey.ErrWrongPrefix, Reason: "apikey_wrong_prefix"},
		otelhook.ErrorClass{Err: apikey.ErrNotFound, Reason: "apikey_unknown"},
		otelhook.ErrorClass{Err: apikey.ErrMismatch, Reason: "apikey_mismatch"},
		otelhook.ErrorClass{Err: apikey.ErrRevoked, Reason: "apikey_revoked"},
		otelhook.ErrorClass{Err: apikey.ErrExpired, Reason: "apikey_expired"},
		otelhook.ErrorClass{Err: session.ErrInvalidToken, Reason: "session_invalid"},
		otelhook.ErrorClass{Err: session.ErrTokenReused, Reason: "session_reused"},
		otelhook.ErrorClass{Err: session.ErrExpired, Reason: "session_expired"},
		otelhook.ErrorClass{Err: session.ErrFamilyRevoked, Reason: "session_revoked"},
		otelhook.ErrorClass{Err: auth.ErrInvalidCredential, Reason: "invalid_credential"},
	)
}

// FailureHook returns a function for auth.Hooks.OnFailure
// that counts refused credentials as bedrock.auth.failures ({failure},
// counter) with bedrock.auth.reason: the sentinel of auth/token,
// auth/apikey or auth/session the error matches (token_expired,
// token_signature, apikey_revoked, session_reused, ...), invalid_credential
// for another refused credential, canceled or deadline_exceeded, or
// unavailable for an authenticator that could not decide (the 503 case).
// The credential, the subject and the error text are never recorded.
//
// When the request carries a recording span, the failure is also added to
// it as a bedrock.auth.failure event with the reason. A nil mp means the
// global provider. It fails only if the instrument cannot be created.
func FailureHook(mp metric.MeterProvider) (func(r *http.Request, err error), error) {
	b := otelhook.New(mp, "authobserve")
	failures := b.Counter("bedrock.auth.failures", "{failure}", "Refused credentials, by reason.")
	if err := b.Check("auth"); err != nil {
		return nil, err
	}
	classes := authFailureClasses()
	byReason := otelhook.NewClassifier(attrAuthReason, "unavailable", classes)
	events := make([]trace.EventOption, len(classes)+1)
	for i, c := range classes {
		events[i] = trace.WithAttributes(attrAuthReason.String(c.Reason))
	}
	events[len(classes)] = trace.WithAttributes(attrAuthReason.String("unavailable"))
	return func(r *http.Request, err error) {
		ctx := r.Context()
		i := byReason.Index(err)
		failures.Add(ctx, 1, byReason.At(i).Add...)
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.AddEvent("bedrock.auth.failure", events[i])
		}
	}, nil
}

// DenyHook returns a function for the authz.Hooks.OnDeny of the
// authz.Requirement of perm that counts refusals as bedrock.authz.denials
// ({denial}, counter)
// with bedrock.authz.permission (perm, a constant of the route) and
// bedrock.authz.reason: anonymous, default_deny (no role or rule grants
// the permission), deny_rule (a deny rule matched) or _OTHER. Rule names
// and subjects are never recorded. A nil mp means the global provider. It
// fails only if the instrument cannot be created.
func DenyHook(mp metric.MeterProvider, perm string) (func(r *http.Request, d authz.Decision), error) {
	b := otelhook.New(mp, "authobserve")
	denials := b.Counter("bedrock.authz.denials", "{denial}", "Authorization refusals, by reason.")
	if err := b.Check("authz"); err != nil {
		return nil, err
	}
	p := attrAuthzPermission.String(perm)
	anonymous := otelhook.OptsOf(p, attrAuthzReason.String("anonymous"))
	defaultDeny := otelhook.OptsOf(p, attrAuthzReason.String("default_deny"))
	denyRule := otelhook.OptsOf(p, attrAuthzReason.String("deny_rule"))
	other := otelhook.OptsOf(p, attrAuthzReason.String("_OTHER"))
	return func(r *http.Request, d authz.Decision) {
		o := other
		switch {
		case d.Reason == authz.ReasonAnonymous:
			o = anonymous
		case d.Reason == authz.ReasonDefaultDeny:
			o = defaultDeny
		case strings.HasPrefix(d.Reason, "rule deny:"):
			o = denyRule
		}
		denials.Add(r.Context(), 1, o.Add...)
	}, nil
}
