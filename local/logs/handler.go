package logs

import "net/http"

// Option configures the handler returned by New.
type Option func(*handler)

type handler struct{ store *Store }

// New returns the CloudWatch Logs JSON 1.1 API over store.
func New(store *Store, opts ...Option) http.Handler {
	h := &handler{store: store}
	for _, o := range opts {
		o(h)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"__type":"UnknownOperationException","message":"not implemented yet"}`))
}
