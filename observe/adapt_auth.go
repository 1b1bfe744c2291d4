package observe

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
)

// Attribute keys of the auth adapters.
const (
	attrAuthReason      = attribute.Key("bedrock.auth.reason")
	attrAuthzReason     = attribute.Key("bedrock.authz.reason")
	attrAuthzPermission = attribute.Key("bedrock.authz.permission")
)

// authFailureClasses lists the refusal reasons, the most specific sentinel
// first: several token sentinels wrap ErrTokenMalformed, and every one
// wraps auth.ErrInvalidCredential.
func authFailureClasses() []errorClass {
	return withContextClasses(
		errorClass{token.ErrTokenAlgorithm, "token_algorithm"},
		errorClass{token.ErrTokenHeader, "token_header"},
		errorClass{token.ErrTokenMissingClaim, "token_missing_claim"},
		errorClass{token.ErrTokenMalformed, "token_malformed"},
		errorClass{token.ErrTokenSignature, "token_signature"},
		errorClass{token.ErrTokenExpired, "token_expired"},
		errorClass{token.ErrTokenNotYetValid, "token_not_yet_valid"},
		errorClass{token.ErrTokenAudience, "token_audience"},
		errorClass{token.ErrTokenIssuer, "token_issuer"},
		errorClass{token.ErrTokenType, "token_type"},
		errorClass{token.ErrUnknownKey, "token_unknown_key"},
		errorClass{apikey.ErrMalformed, "apikey_malformed"},
		errorClass{apikey.ErrChecksum, "apikey_checksum"},
		errorClass{apikey.ErrWrongPrefix, "apikey_wrong_prefix"},
		errorClass{apikey.ErrNotFound, "apikey_unknown"},
		errorClass{apikey.ErrMismatch, "apikey_mismatch"},
		errorClass{apikey.ErrRevoked, "apikey_revoked"},
		errorClass{apikey.ErrExpired, "apikey_expired"},
		errorClass{session.ErrInvalidToken, "session_invalid"},
		errorClass{session.ErrTokenReused, "session_reused"},
		errorClass{session.ErrExpired, "session_expired"},
		errorClass{session.ErrFamilyRevoked, "session_revoked"},
		errorClass{auth.ErrInvalidCredential, "invalid_credential"},
	)
}

// AuthFailureHook returns a function for auth.Hooks.OnFailure
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
func AuthFailureHook(mp metric.MeterProvider) (func(r *http.Request, err error), error) {
	b := newInstruments(mp)
	failures := b.counter("bedrock.auth.failures", "{failure}", "Refused credentials, by reason.")
	if err := b.check("auth"); err != nil {
		return nil, err
	}
	classes := authFailureClasses()
	byReason := newClassifier(attrAuthReason, "unavailable", classes)
	events := make([]trace.EventOption, len(classes)+1)
	for i, c := range classes {
		events[i] = trace.WithAttributes(attrAuthReason.String(c.reason))
	}
	events[len(classes)] = trace.WithAttributes(attrAuthReason.String("unavailable"))
	return func(r *http.Request, err error) {
		ctx := r.Context()
		i := byReason.index(err)
		failures.Add(ctx, 1, byReason.at(i).add...)
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.AddEvent("bedrock.auth.failure", events[i])
		}
	}, nil
}

// AuthzDenyHook returns a function for the authz.Hooks.OnDeny of the
// authz.Requirement of perm that counts refusals as bedrock.authz.denials
// ({denial}, counter)
// with bedrock.authz.permission (perm, a constant of the route) and
// bedrock.authz.reason: anonymous, default_deny (no role or rule grants
// the permission), deny_rule (a deny rule matched) or _OTHER. Rule names
// and subjects are never recorded. A nil mp means the global provider. It
// fails only if the instrument cannot be created.
func AuthzDenyHook(mp metric.MeterProvider, perm string) (func(r *http.Request, d authz.Decision), error) {
	b := newInstruments(mp)
	denials := b.counter("bedrock.authz.denials", "{denial}", "Authorization refusals, by reason.")
	if err := b.check("authz"); err != nil {
		return nil, err
	}
	p := attrAuthzPermission.String(perm)
	anonymous := optsOf(p, attrAuthzReason.String("anonymous"))
	defaultDeny := optsOf(p, attrAuthzReason.String("default_deny"))
	denyRule := optsOf(p, attrAuthzReason.String("deny_rule"))
	other := optsOf(p, attrAuthzReason.String("_OTHER"))
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
		denials.Add(r.Context(), 1, o.add...)
	}, nil
}
