// Package orders places orders that never oversell, made safe to retry
// with Idempotency-Key, charges them through the payment service, and lists
// each user's own: its routes, handlers and queries.
package orders

import (
	"context"
	"errors"
	"net/http"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/idempotency"
	"github.com/bedrock-go/bedrock/pagination"

	"github.com/bedrock-go/bedrock/examples/service/internal/access"
	"github.com/bedrock-go/bedrock/examples/service/internal/payment"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

// The orders' own problem types. A problem with a title of its own needs a
// type of its own: with about:blank the title is the status phrase (RFC
// 9457 §4.2.1). Clients branch on the type, never on the title.
const (
	ProblemOutOfStock     = "https://shop.example/problems/out-of-stock"
	ProblemUnknownProduct = "https://shop.example/problems/unknown-product"
)

// Config is what the orders' handlers need; every field is required unless
// noted.
type Config struct {
	web.Responder
	Store *Store
	Pager *pagination.Pager
	// Idempotency stores the answers of POST /v1/orders by Idempotency-Key.
	Idempotency idempotency.Store
	// Payments charges orders; Faults, optional, is the in-process fake
	// payment service whose faults POST /v1/admin/faults switches.
	Payments *payment.Client
	Faults   *payment.Fake
	// StockChanged is told the products an order took stock from (the
	// catalogue's cache drops them); optional.
	StockChanged func(ctx context.Context, productIDs ...int64)
	Access       *access.Control
}

type handlers struct{ Config }

// Routes registers the orders' routes on r.
func Routes(r *web.Router, cfg Config) error {
	if err := cfg.Responder.Check("orders"); err != nil {
		return err
	}
	if cfg.Store == nil || cfg.Pager == nil || cfg.Idempotency == nil || cfg.Payments == nil || cfg.Access == nil {
		return errors.New("orders: Config needs Store, Pager, Idempotency, Payments and Access")
	}
	if cfg.StockChanged == nil {
		cfg.StockChanged = func(context.Context, ...int64) {}
	}
	idem, err := idempotency.NewMiddleware(cfg.Idempotency, idempotency.Config{
		Methods:   []string{http.MethodPost},
		Required:  true,
		Principal: func(r *http.Request) string { return auth.SubjectFrom(r.Context()) },
		KeyPrefix: "orders:",
	})
	if err != nil {
		return err
	}
	r.Describe(openAPI)
	s := &handlers{cfg}
	need := cfg.Access.Require
	r.Handle("POST /v1/orders", need(access.PermOrdersWrite, idem.Handler(http.HandlerFunc(s.placeOrder))))
	r.Handle("GET /v1/orders", need(access.PermOrdersRead, http.HandlerFunc(s.listOrders)))
	r.Handle("GET /v1/orders/{id}", need(access.PermOrdersRead, http.HandlerFunc(s.getOrder)))
	r.Handle("POST /v1/admin/faults", need(access.PermAdminFaults, http.HandlerFunc(s.setFaults)))
	return nil
}

// fail answers the orders' own errors, and hands the others to the
// Responder.
func (s *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		oos *OutOfStockError
		unk *UnknownProductError
	)
	switch {
	case errors.As(err, &oos):
		httpapi.Problem{Status: http.StatusConflict, Type: ProblemOutOfStock, Title: "Out of stock",
			Detail:     "A product does not have enough stock for this order.",
			Extensions: map[string]any{"product_id": oos.ProductID, "available": oos.Available}}.Write(w)
	case errors.As(err, &unk):
		httpapi.Problem{Status: http.StatusUnprocessableEntity, Type: ProblemUnknownProduct, Title: "Unknown product",
			Detail: "An ordered product does not exist.", Extensions: map[string]any{"product_id": unk.ProductID}}.Write(w)
	default:
		s.Responder.Fail(w, r, err)
	}
}
