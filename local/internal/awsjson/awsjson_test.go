package awsjson

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWriteErrorAnswersTheJSON11ErrorShape(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *Error
		body string
	}{
		{"client error", &Error{"ParameterNotFound", "Parameter /a not found.", http.StatusBadRequest},
			`{"__type":"ParameterNotFound","message":"Parameter /a not found."}`},
		{"server error keeps <, > and &", &Error{"InternalServerError", "a <b> & c", http.StatusInternalServerError},
			`{"__type":"InternalServerError","message":"a <b> & c"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tc.err)
			assert.Equal(t, tc.err.Status, rec.Code)
			assert.Equal(t, "application/x-amz-json-1.1", rec.Header().Get("Content-Type"))
			assert.Equal(t, tc.body, rec.Body.String())
		})
	}
}

func TestErrorNamesItsType(t *testing.T) {
	assert.Equal(t, "ValidationException: bad name", (&Error{"ValidationException", "bad name", 400}).Error())
}
