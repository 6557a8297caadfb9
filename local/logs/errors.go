package logs

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/acme/request-dump/local/internal/awsjson"
)

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("logs: store is closed")

func errGroupNotFound() error {
	return &awsjson.Error{Type: "ResourceNotFoundException", Message: "The specified log group does not exist.", Status: http.StatusBadRequest}
}

func errStreamNotFound() error {
	return &awsjson.Error{Type: "ResourceNotFoundException", Message: "The specified log stream does not exist.", Status: http.StatusBadRequest}
}

func errGroupExists() error {
	return &awsjson.Error{Type: "ResourceAlreadyExistsException", Message: "The specified log group already exists", Status: http.StatusBadRequest}
}

func errStreamExists() error {
	return &awsjson.Error{Type: "ResourceAlreadyExistsException", Message: "The specified log stream already exists", Status: http.StatusBadRequest}
}

func invalidParameter(format string, args ...any) error {
	return &awsjson.Error{Type: "InvalidParameterException", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// validation is AWS's message for a request member that breaks its model's
// constraints.
func validation(value, member, constraint string) error {
	return invalidParameter("1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s", value, member, constraint)
}
