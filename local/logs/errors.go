package logs

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("logs: store is closed")

// apiError is an error in the AWS JSON 1.1 shape: its Type is the __type the
// SDKs decode into their typed errors (types.ResourceNotFoundException, …).
type apiError struct {
	Type    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func errGroupNotFound() error {
	return &apiError{"ResourceNotFoundException", "The specified log group does not exist.", http.StatusBadRequest}
}

func errStreamNotFound() error {
	return &apiError{"ResourceNotFoundException", "The specified log stream does not exist.", http.StatusBadRequest}
}

func errGroupExists() error {
	return &apiError{"ResourceAlreadyExistsException", "The specified log group already exists", http.StatusBadRequest}
}

func errStreamExists() error {
	return &apiError{"ResourceAlreadyExistsException", "The specified log stream already exists", http.StatusBadRequest}
}

func invalidParameter(format string, args ...any) error {
	return &apiError{"InvalidParameterException", fmt.Sprintf(format, args...), http.StatusBadRequest}
}

// validation is AWS's message for a request member that breaks its model's
// constraints.
func validation(value, member, constraint string) error {
	return invalidParameter("1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s", value, member, constraint)
}
