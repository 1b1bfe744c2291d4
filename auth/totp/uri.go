package totp

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxURILen is the longest otpauth URI ParseURI reads.
const MaxURILen = 2048

// ErrInvalidURI means ParseURI was given something that is not a usable
// otpauth://totp URI; the wrapped message says what is wrong.
var ErrInvalidURI = errors.New("totp: invalid otpauth URI")

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// URI returns the otpauth URI authenticator apps scan:
//
//	otpauth://totp/Issuer:account?algorithm=SHA1&digits=6&issuer=Issuer&period=30&secret=BASE32
//
// in the Key URI Format that Google Authenticator defined and other apps
// follow; the secret is base32 without padding. The URI holds the secret:
// show it to the user once, never log or store it.
func (k *Key) URI() string {
	v := url.Values{}
	v.Set("secret", b32.EncodeToString(k.Secret))
	v.Set("issuer", k.Issuer)
	v.Set("algorithm", k.Algorithm.String())
	v.Set("digits", strconv.Itoa(k.Digits))
	v.Set("period", strconv.FormatInt(int64(k.Period/time.Second), 10))
	label := k.Account
	if k.Issuer != "" {
		label = k.Issuer + ":" + k.Account
	}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + label, RawQuery: v.Encode()}
	return u.String()
}

// ParseURI reads an otpauth://totp URI, such as one exported by another
// service, into a Key. Missing algorithm, digits and period take the
// defaults SHA1, 6 and 30; the issuer comes from the issuer parameter or
// the label prefix, which must agree when both are present. The input is
// untrusted: every error wraps ErrInvalidURI, or ErrInvalidKey when the
// parameters are out of bounds, and the input is limited to MaxURILen.
func ParseURI(s string) (*Key, error) {
	if len(s) > MaxURILen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidURI, MaxURILen)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURI, errors.Unwrap(err))
	}
	if !strings.EqualFold(u.Scheme, "otpauth") || !strings.EqualFold(u.Host, "totp") || u.User != nil {
		return nil, fmt.Errorf("%w: want otpauth://totp/", ErrInvalidURI)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: bad query", ErrInvalidURI)
	}
	for name, vals := range q {
		if len(vals) > 1 {
			return nil, fmt.Errorf("%w: parameter %q repeated", ErrInvalidURI, name)
		}
	}
	k := &Key{Algorithm: SHA1, Digits: 6, Period: 30 * time.Second}
	if err := k.parseLabel(strings.TrimPrefix(u.Path, "/"), q); err != nil {
		return nil, err
	}
	if err := k.parseParams(q); err != nil {
		return nil, err
	}
	if err := k.Validate(); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Key) parseLabel(label string, q url.Values) error {
	issuer, account, found := strings.Cut(label, ":")
	if !found {
		issuer, account = "", label
	}
	account = strings.TrimLeft(account, " ")
	param, hasParam := q["issuer"]
	switch {
	case account == "":
		return fmt.Errorf("%w: no account name", ErrInvalidURI)
	case found && hasParam && param[0] != issuer:
		return fmt.Errorf("%w: issuer parameter differs from the label", ErrInvalidURI)
	case hasParam:
		issuer = param[0]
	}
	k.Issuer, k.Account = issuer, account
	return nil
}

func (k *Key) parseParams(q url.Values) error {
	secret := strings.ToUpper(strings.TrimRight(q.Get("secret"), "="))
	if secret == "" {
		return fmt.Errorf("%w: no secret", ErrInvalidURI)
	}
	if len(secret) > b32.EncodedLen(MaxSecretLen) {
		return fmt.Errorf("%w: secret longer than %d bytes", ErrInvalidKey, MaxSecretLen)
	}
	var err error
	if k.Secret, err = b32.DecodeString(secret); err != nil {
		return fmt.Errorf("%w: secret is not base32", ErrInvalidURI)
	}
	if v, ok := q["algorithm"]; ok {
		switch strings.ToUpper(v[0]) {
		case "SHA1":
			k.Algorithm = SHA1
		case "SHA256":
			k.Algorithm = SHA256
		case "SHA512":
			k.Algorithm = SHA512
		default:
			return fmt.Errorf("%w: unknown algorithm", ErrInvalidURI)
		}
	}
	if v, ok := q["digits"]; ok {
		if k.Digits, err = smallInt(v[0]); err != nil {
			return fmt.Errorf("%w: digits is not a number", ErrInvalidURI)
		}
	}
	if v, ok := q["period"]; ok {
		p, err := smallInt(v[0])
		if err != nil {
			return fmt.Errorf("%w: period is not a number", ErrInvalidURI)
		}
		k.Period = time.Duration(p) * time.Second
	}
	return nil
}

// smallInt parses 1 to 4 decimal digits, so no value can overflow.
func smallInt(s string) (int, error) {
	if len(s) == 0 || len(s) > 4 {
		return 0, strconv.ErrRange
	}
	return strconv.Atoi(s)
}
