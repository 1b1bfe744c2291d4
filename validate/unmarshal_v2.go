//go:build goexperiment.jsonv2

package validate

import (
	"errors"

	jsonv2 "encoding/json/v2"
)

// unmarshal is the final decode. Built with GOEXPERIMENT=jsonv2, it uses
// encoding/json/v2, which on its own already refuses duplicate members,
// invalid UTF-8 and (with RejectUnknownMembers) unknown ones, and matches
// names with case; the strict walk before it still runs, so that every
// problem is reported with its path and the behaviour is the same with
// either encoder.
func unmarshal(data []byte, dst any) error {
	return jsonv2.Unmarshal(data, dst, jsonv2.RejectUnknownMembers(true))
}

// encoderErrorPath is the JSON Pointer that a v2 SemanticError carries.
func encoderErrorPath(err error) (Path, bool) {
	var se *jsonv2.SemanticError
	if !errors.As(err, &se) || se.JSONPointer == "" {
		return nil, false
	}
	p, perr := ParsePointer(string(se.JSONPointer))
	return p, perr == nil
}
