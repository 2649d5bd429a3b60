package takedown

import (
	"errors"
	"fmt"
)

// Application error codes. Anything that is not an *Error is an internal
// error: it is logged and shown to users only as "internal error".
const (
	ECONFLICT     = "conflict"     // the thing exists already, or a state forbids the change
	EINTERNAL     = "internal"     // a bug or an outage; details are logged, not shown
	EINVALID      = "invalid"      // the input is malformed or incomplete
	ENOTFOUND     = "not_found"    // no such thing, or the caller may not see it
	EUNAUTHORIZED = "unauthorized" // the caller is not authenticated
	EFORBIDDEN    = "forbidden"    // the caller may not do this
	EUNAVAILABLE  = "unavailable"  // a dependency (database, queue) cannot be reached now
	ERATELIMITED  = "rate_limited" // too many attempts; wait and try again
	ETOOLARGE     = "too_large"    // the request or a field of it is larger than allowed
)

// Error is an application error: a code the program can act on and a
// message a user can read.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("takedown error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the application error in err's chain, "" for
// nil and EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the application error in err's chain,
// "" for nil and "internal error" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
