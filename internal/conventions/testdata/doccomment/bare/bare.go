package bare

func Exported() {}

type Type struct{}

func (Type) Method() {}

func (t *Type) Documented() {} // a trailing comment is not a doc comment

// Grouped are documented by their group.
const (
	A = 1
	B = 2
)

var Lonely = 3

var (
	// Kept has its own.
	Kept  = 4
	Plain = 5
)

type hidden struct{}

func (hidden) Exported() {}
