// Package otelhook is the machinery the adapters under observe/ share to
// turn the hooks of Bedrock's packages into OpenTelemetry metrics.
//
// Each adapter builds its instruments once and precomputes every attribute
// set it can record, so that a hook call is an allocation-free instrument
// update: the attribute values come from small fixed sets (states, reason
// classes, names chosen in code), never from keys, ids, paths or error
// text, which would make the number of series unbounded.
package otelhook
