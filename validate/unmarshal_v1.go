//go:build !goexperiment.jsonv2

package validate

import "encoding/json"

// unmarshal is the final decode, after the strict walk has refused
// everything encoding/json v1 would have been lenient about.
func unmarshal(data []byte, dst any) error { return json.Unmarshal(data, dst) }

// encoderErrorPath is the path of a v2 SemanticError; v1 has none.
func encoderErrorPath(error) (Path, bool) { return nil, false }
