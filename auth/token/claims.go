package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/bedrock-go/bedrock/internal/jsonscan"
)

// NumericDate is a JWT time: seconds since the Unix epoch (RFC 7519 §2).
// Zero means absent. Only 0 to [MaxNumericDate] are accepted: a date
// before 1970 is never when a token was issued or becomes valid, and a
// bound keeps every comparison with a clock free of overflow (an nbf of
// 2^63-1 once wrapped into the past). Fractions are accepted and
// truncated to the second.
type NumericDate int64

// MaxNumericDate is the last NumericDate accepted: 9999-12-31T23:59:59Z,
// the last second Go's time formatting can write.
const MaxNumericDate NumericDate = 253402300799

// At returns the NumericDate of t, truncated to the second.
func At(t time.Time) NumericDate { return NumericDate(t.Unix()) }

// Time returns d as a time.Time, or the zero time when d is absent.
func (d NumericDate) Time() time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Unix(int64(d), 0)
}

func (d NumericDate) valid() bool { return d >= 0 && d <= MaxNumericDate }

// checkDates refuses out-of-range dates however they got into c, so that
// comparing them with a clock cannot overflow.
func checkDates(c *Claims) error {
	switch {
	case !c.ExpiresAt.valid():
		return fmt.Errorf("%w: exp %d", ErrDate, c.ExpiresAt)
	case !c.NotBefore.valid():
		return fmt.Errorf("%w: nbf %d", ErrDate, c.NotBefore)
	case !c.IssuedAt.valid():
		return fmt.Errorf("%w: iat %d", ErrDate, c.IssuedAt)
	}
	return nil
}

// UnmarshalJSON accepts a JSON number from 0 to MaxNumericDate, fractions
// included; other numbers are refused with [ErrDate].
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	v, err := parseNumericDate(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func parseNumericDate(b []byte) (NumericDate, error) {
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if d := NumericDate(n); d.valid() {
			return d, nil
		}
		return 0, fmt.Errorf("%w: %d", ErrDate, n)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w: %.3g", ErrDate, f)
	}
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("%w: NumericDate is not a number", ErrMalformed)
	}
	// Compared as floats before converting: int64(f) is undefined beyond
	// the int64 range.
	if f < 0 || f >= float64(MaxNumericDate)+1 {
		return 0, fmt.Errorf("%w: %.3g", ErrDate, f)
	}
	return NumericDate(f), nil
}

// Audience is the aud claim: a string or an array of strings in JSON.
type Audience []string

// MarshalJSON writes a single audience as a string, several as an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("%w: aud must be a string or an array of strings", ErrMalformed)
	}
	*a = list
	return nil
}

// Contains reports whether aud is one of a's values.
func (a Audience) Contains(aud string) bool {
	for _, v := range a {
		if v == aud {
			return true
		}
	}
	return false
}

// Claims are the registered JWT claims (RFC 7519 §4.1). Embed Claims in a
// struct to add custom claims; the struct then satisfies [Carrier].
type Claims struct {
	Issuer    string      `json:"iss,omitempty"`
	Subject   string      `json:"sub,omitempty"`
	Audience  Audience    `json:"aud,omitempty"`
	ExpiresAt NumericDate `json:"exp,omitempty"`
	NotBefore NumericDate `json:"nbf,omitempty"`
	IssuedAt  NumericDate `json:"iat,omitempty"`
	ID        string      `json:"jti,omitempty"`
}

// Registered returns c; through embedding it makes any struct with Claims a
// [Carrier].
func (c *Claims) Registered() *Claims { return c }

// Carrier is a claims type: a struct that embeds [Claims].
type Carrier interface {
	Registered() *Claims
}

// decodeClaims decodes a payload into the fast path for *Claims, and with
// encoding/json for any other carrier. Duplicate member names (compared
// ignoring ASCII case, as encoding/json matches them) are refused in both.
func decodeClaims(payload []byte, dst Carrier) error {
	if c, ok := dst.(*Claims); ok {
		return decodeRegistered(payload, c)
	}
	if err := checkObject(payload); err != nil {
		return err
	}
	if err := json.Unmarshal(payload, dst); err != nil {
		return fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	return nil
}

func decodeRegistered(payload []byte, c *Claims) error {
	return eachMember(payload, func(key, value []byte) error {
		var err error
		switch string(key) {
		case "iss":
			c.Issuer, err = stringValue(value)
		case "sub":
			c.Subject, err = stringValue(value)
		case "jti":
			c.ID, err = stringValue(value)
		case "aud":
			if len(value) > 0 && value[0] == '"' {
				var s string
				s, err = stringValue(value)
				c.Audience = Audience{s}
			} else {
				err = c.Audience.UnmarshalJSON(value)
			}
		case "exp":
			c.ExpiresAt, err = parseNumericDate(value)
		case "nbf":
			c.NotBefore, err = parseNumericDate(value)
		case "iat":
			c.IssuedAt, err = parseNumericDate(value)
		}
		if err != nil {
			return fmt.Errorf("%w: claim %s: %w", ErrMalformed, key, err)
		}
		return nil
	})
}

// checkObject validates that b is one JSON object without duplicate
// member names.
func checkObject(b []byte) error {
	return eachMember(b, func(_, _ []byte) error { return nil })
}

var errNotString = errors.New("not a string")

// stringValue returns the string in a raw JSON value, which eachMember
// has checked.
func stringValue(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return "", errNotString
	}
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s), nil
	}
	var buf [128]byte
	return string(jsonscan.Unquote(buf[:0], s)), nil
}
