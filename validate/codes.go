package validate

// Violation codes. They are part of the API: stable, snake_case, and what a
// client or a [Translator] switches on. Each is listed with its parameters.
const (
	CodeRequired          = "required"            // value absent, or zero where a non-zero value is required
	CodeBlank             = "blank"               // only white space
	CodeTooShort          = "too_short"           // {min} characters (runes)
	CodeTooLong           = "too_long"            // {max} characters (runes)
	CodeTooFewBytes       = "too_few_bytes"       // {min} bytes
	CodeTooManyBytes      = "too_many_bytes"      // {max} bytes
	CodeNotAllowed        = "not_allowed"         // {allowed}: value not in the allowed set
	CodePattern           = "pattern"             // {pattern}: regular expression not matched
	CodeEmail             = "invalid_email"       // not an addr-spec (see [StringField.Email])
	CodeURL               = "invalid_url"         // not an absolute URL with a host
	CodeURLScheme         = "url_scheme"          // {allowed}: scheme not allowed
	CodeUUID              = "invalid_uuid"        // not a UUID in its 36-character form
	CodeDateTime          = "invalid_datetime"    // not an RFC 3339 date-time
	CodeSlug              = "invalid_slug"        // not lower-case words joined by single hyphens
	CodeControlCharacter  = "control_character"   // contains a control or bidi-override character
	CodeInvalidUTF8       = "invalid_utf8"        // not valid UTF-8
	CodeTooSmall          = "too_small"           // {min}
	CodeTooLarge          = "too_large"           // {max}
	CodeOutOfRange        = "out_of_range"        // {min} {max}
	CodeNotPositive       = "not_positive"        // must be > 0
	CodeNegative          = "negative"            // must be >= 0
	CodeNotMultiple       = "not_multiple"        // {factor}
	CodeNotAfter          = "not_after"           // {after}: time not after
	CodeNotBefore         = "not_before"          // {before}: time not before
	CodeNotWithin         = "not_within"          // {reference} {within}: time too far from reference
	CodeTooFewItems       = "too_few_items"       // {min}
	CodeTooManyItems      = "too_many_items"      // {max}
	CodeDuplicate         = "duplicate"           // {index}: equal to the element at that index
	CodeExactlyOne        = "exactly_one"         // {fields}: exactly one must be present
	CodeAtLeastOne        = "at_least_one"        // {fields}: at least one must be present
	CodeMutuallyExclusive = "mutually_exclusive"  // {fields}: at most one may be present
	CodeUnknownField      = "unknown_field"       // member not in the target type
	CodeFieldCase         = "field_case_mismatch" // {expected}: member differs from a field only in case
	CodeDuplicateKey      = "duplicate_key"       // member appears twice in one object
	CodeInvalidType       = "invalid_type"        // {expected} {actual}
	CodeNumberRange       = "number_out_of_range" // {type}: JSON number does not fit the Go type
	CodeInvalidValue      = "invalid_value"       // the type's own decoder refused the value
)

// English message templates of the built-in codes.
const (
	msgRequired          = "is required"
	msgBlank             = "must not be blank"
	msgTooShort          = "must be at least {min} characters long"
	msgTooLong           = "must be at most {max} characters long"
	msgTooFewBytes       = "must be at least {min} bytes long"
	msgTooManyBytes      = "must be at most {max} bytes long"
	msgNotAllowed        = "must be one of: {allowed}"
	msgPattern           = "must match the pattern {pattern}"
	msgEmail             = "must be a valid email address"
	msgURL               = "must be an absolute URL with a host"
	msgURLScheme         = "must be a URL with one of the schemes: {allowed}"
	msgUUID              = "must be a UUID"
	msgDateTime          = "must be an RFC 3339 date-time such as 2006-01-02T15:04:05Z"
	msgSlug              = "must be lower-case letters and digits joined by single hyphens"
	msgControlCharacter  = "must not contain control characters"
	msgInvalidUTF8       = "must be valid UTF-8"
	msgTooSmall          = "must be at least {min}"
	msgTooLarge          = "must be at most {max}"
	msgOutOfRange        = "must be between {min} and {max}"
	msgNotPositive       = "must be greater than 0"
	msgNegative          = "must not be negative"
	msgNotMultiple       = "must be a multiple of {factor}"
	msgNotAfter          = "must be after {after}"
	msgNotBefore         = "must be before {before}"
	msgNotWithin         = "must be within {within} of {reference}"
	msgTooFewItems       = "must have at least {min} items"
	msgTooManyItems      = "must have at most {max} items"
	msgDuplicate         = "must not repeat the item at index {index}"
	msgExactlyOne        = "exactly one of {fields} is required"
	msgAtLeastOne        = "at least one of {fields} is required"
	msgMutuallyExclusive = "at most one of {fields} may be given"
	msgUnknownField      = "is not a known field"
	msgFieldCase         = "is not a known field; field names are case-sensitive, did you mean {expected}?"
	msgDuplicateKey      = "appears more than once"
	msgInvalidType       = "must be {expected}, not {actual}"
	msgNumberRange       = "is out of range for {type}"
	msgInvalidValue      = "is not a valid value: {reason}"
)
