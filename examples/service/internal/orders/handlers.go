package orders

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/httpapi"
	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/resilience"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/payment"
	"github.com/bedrock-go/bedrock/examples/service/internal/store"
	"github.com/bedrock-go/bedrock/examples/service/internal/web"
)

type orderLine struct {
	ProductID int64 `json:"product_id"`
	Quantity  int64 `json:"quantity"`
}

type orderRequest struct {
	Items []orderLine `json:"items"`
}

func (o *orderRequest) Validate(v *validate.Validator) {
	validate.Slice(v, "items", o.Items).Required().MaxItems(50).Each(func(v *validate.Validator, l orderLine) {
		validate.Number(v, "product_id", l.ProductID).Positive()
		validate.Number(v, "quantity", l.Quantity).Between(1, 1000)
	})
}

func (s *handlers) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req orderRequest
	if err := s.Checker.DecodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	lines := make([]Line, len(req.Items))
	for i, it := range req.Items {
		lines[i] = Line(it) // the same fields, without the JSON tags
	}
	o, err := s.Store.Place(r.Context(), auth.SubjectFrom(r.Context()), lines)
	if err == nil {
		ids := make([]int64, len(o.Items))
		for i, it := range o.Items {
			ids[i] = it.ProductID
		}
		s.StockChanged(context.WithoutCancel(r.Context()), ids...) // their cached copies are stale
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o.Status = s.pay(r, o)
	w.Header().Set("Location", "/v1/orders/"+strconv.FormatInt(o.ID, 10))
	web.JSON(w, http.StatusCreated, o)
}

func (s *handlers) listOrders(w http.ResponseWriter, r *http.Request) {
	req, err := s.Pager.ParseRequest(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	subject := auth.SubjectFrom(r.Context())
	uid, err := store.ParseUserID(subject)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The cursor is bound to its owner: one user's cursor is refused in
	// another's listing.
	req.Filter = "orders:" + subject
	q, err := s.Pager.Query(req, uid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.Store.List(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := pagination.NewPage(q, rows, Keys)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.Page(w, r, page)
}

func (s *handlers) getOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := web.PathID(w, r)
	if !ok {
		return
	}
	o, err := s.Store.Get(r.Context(), auth.SubjectFrom(r.Context()), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, o)
}

// pay charges a placed order. The stock is already taken, so a payment
// service that is down or failing does not fail the order: it is accepted as
// pending_payment (the fallback), to be charged later. With the breaker open
// this costs no wait at all.
func (s *handlers) pay(r *http.Request, o Order) string {
	ctx := context.WithoutCancel(r.Context()) // the outcome is recorded even if the client left
	status, chargeID := StatusPaid, ""
	id, err := s.Payments.Charge(ctx, o.ID, o.TotalCents)
	if err != nil {
		status = StatusPendingPayment
		if !errors.Is(err, resilience.ErrOpen) {
			s.Log.WarnContext(ctx, "payment failed; order pending", slog.Int64("order", o.ID), slog.Any("error", err))
		}
	} else {
		chargeID = id
	}
	if err := s.Store.SetPayment(ctx, o.ID, status, chargeID); err != nil {
		s.Log.ErrorContext(ctx, "recording payment failed", slog.Int64("order", o.ID), slog.Any("error", err))
		return StatusPlaced
	}
	return status
}

type faultRequest struct {
	Mode string `json:"mode"`
}

func (f *faultRequest) Validate(v *validate.Validator) {
	v.String("mode", f.Mode).Required().OneOf(payment.FaultNone, payment.FaultError, payment.FaultSlow)
}

// setFaults switches the fault injection of the in-process payment service.
func (s *handlers) setFaults(w http.ResponseWriter, r *http.Request) {
	if s.Faults == nil {
		httpapi.Problem{Status: http.StatusNotFound, Detail: "No fake payment service runs here."}.Write(w)
		return
	}
	var req faultRequest
	if err := s.Checker.DecodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Faults.SetFault(req.Mode); err != nil {
		s.fail(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]string{"mode": s.Faults.Fault(), "breaker": s.Payments.BreakerState().String()})
}
