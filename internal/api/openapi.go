package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route of routes(); TestOpenAPI keeps the
// two in step and checks real responses against its schemas.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDocument)
	return err
}
