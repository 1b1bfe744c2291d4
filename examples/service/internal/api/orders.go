package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/bedrock-go/bedrock/auth"
	"github.com/bedrock-go/bedrock/internal/problem"
	"github.com/bedrock-go/bedrock/pagination"
	"github.com/bedrock-go/bedrock/resilience"
	"github.com/bedrock-go/bedrock/validate"

	"github.com/bedrock-go/bedrock/examples/service/internal/payment"
	"github.com/bedrock-go/bedrock/examples/service/internal/store"
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

func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req orderRequest
	if err := s.checker.DecodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	lines := make([]store.Line, len(req.Items))
	for i, it := range req.Items {
		lines[i] = store.Line{ProductID: it.ProductID, Quantity: it.Quantity}
	}
	o, err := s.Orders.Place(r.Context(), auth.SubjectFrom(r.Context()), lines)
	if err == nil {
		ids := make([]int64, len(o.Items))
		for i, it := range o.Items {
			ids[i] = it.ProductID
		}
		s.invalidate(r, ids...) // their stock changed
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o.Status = s.pay(r, o)
	w.Header().Set("Location", "/v1/orders/"+strconv.FormatInt(o.ID, 10))
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	req, err := s.OrderPager.ParseRequest(r.URL.Query())
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
	q, err := s.OrderPager.Query(req, uid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.Orders.List(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := pagination.NewPage(q, rows, store.OrderKeys)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writePage(w, r, page)
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	o, err := s.Orders.Get(r.Context(), auth.SubjectFrom(r.Context()), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// pay charges a placed order. The stock is already taken, so a payment
// service that is down or failing does not fail the order: it is accepted as
// pending_payment (the fallback), to be charged later. With the breaker open
// this costs no wait at all.
func (s *Server) pay(r *http.Request, o store.Order) string {
	ctx := context.WithoutCancel(r.Context()) // the outcome is recorded even if the client left
	status, chargeID := store.StatusPaid, ""
	id, err := s.Payments.Charge(ctx, o.ID, o.TotalCents)
	if err != nil {
		status = store.StatusPendingPayment
		if !errors.Is(err, resilience.ErrOpen) {
			s.log.WarnContext(ctx, "payment failed; order pending", slog.Int64("order", o.ID), slog.Any("error", err))
		}
	} else {
		chargeID = id
	}
	if err := s.Orders.SetPayment(ctx, o.ID, status, chargeID); err != nil {
		s.log.ErrorContext(ctx, "recording payment failed", slog.Int64("order", o.ID), slog.Any("error", err))
		return store.StatusPlaced
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
func (s *Server) setFaults(w http.ResponseWriter, r *http.Request) {
	if s.Faults == nil {
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Detail: "No fake payment service runs here."})
		return
	}
	var req faultRequest
	if err := s.checker.DecodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Faults.SetFault(req.Mode); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"mode": s.Faults.Fault(), "breaker": s.Payments.BreakerState().String()})
}
