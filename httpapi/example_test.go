package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/bedrock-go/bedrock/httpapi"
)

func ExampleProblem_Write() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.Problem{
			Type:       "https://shop.example/problems/out-of-stock",
			Title:      "Out of stock",
			Status:     http.StatusConflict,
			Detail:     "A product does not have enough stock for this order.",
			Extensions: map[string]any{"product_id": 42, "available": 1},
		}.Write(w)
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/orders", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body.String())
	// Output:
	// 409 application/problem+json
	// {"available":1,"detail":"A product does not have enough stock for this order.","product_id":42,"status":409,"title":"Out of stock","type":"https://shop.example/problems/out-of-stock"}
}
