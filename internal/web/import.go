package web

import (
	"errors"
	"net/http"
	"path/filepath"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/importer"
)

// Import in the UI: an analyst uploads the agency's file (CSV or JSON
// Lines, with the columns `takedown import` knows) and sees what it made
// of it, the rejected rows with their line and reason.

// maxUpload bounds an uploaded file; larger ones go through the command
// line or the API in batches.
const maxUpload = 64 << 20

// maxShownRejects is how many rejected rows the result page lists.
const maxShownRejects = 100

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "import", map[string]any{"Operation": op, "MayImport": a.MaySubmit(op), "Agency": a.Agency()})
	return nil
}

func (s *Server) importFile(w http.ResponseWriter, r *http.Request) error {
	a, op, err := s.visible(r)
	if err != nil {
		return err
	}
	if !a.MaySubmit(op) {
		return uiErrorf(takedown.EFORBIDDEN, msgAnalystsImport)
	}
	l := s.localizer(r)
	again := func(status int, msg string) error {
		s.render(w, r, status, "import", map[string]any{"Operation": op, "MayImport": true, "Agency": a.Agency(), "Error": msg})
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return again(http.StatusRequestEntityTooLarge, l.T(msgUploadTooLarge))
		}
		return again(http.StatusBadRequest, l.T(msgCannotReadUpload, err))
	}
	defer r.MultipartForm.RemoveAll()
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return again(http.StatusBadRequest, l.T(msgChooseFile))
	}
	defer f.Close()
	format, err := importer.ParseFormat(r.FormValue("format"))
	if err != nil {
		return again(http.StatusBadRequest, errorMessage(l, err))
	}
	if format == importer.FormatAuto {
		format = importer.FormatFromName(hdr.Filename)
	}
	ag, err := s.store.FindAgency(r.Context(), a.Agency())
	if err != nil {
		return err
	}
	var rejects []importer.Reject
	sum, err := importer.Import(r.Context(), s.store, f, importer.Options{
		OperationID: op.ID, AgencyID: ag.ID, Source: "upload:" + filepath.Base(hdr.Filename), Format: format,
		Recognize: canon.Recognize, Now: s.now,
		Reject: func(rj importer.Reject) {
			if len(rejects) < maxShownRejects {
				rejects = append(rejects, rj)
			}
		},
	})
	if err != nil {
		if code := takedown.ErrorCode(err); code == takedown.EINVALID || code == takedown.ECONFLICT {
			return again(http.StatusBadRequest, l.T(msgFileError, filepath.Base(hdr.Filename), errorMessage(l, err)))
		}
		return err
	}
	s.forget(op.ID)
	s.render(w, r, http.StatusOK, "import", map[string]any{"Operation": op, "MayImport": true, "Agency": a.Agency(),
		"File": filepath.Base(hdr.Filename), "Summary": sum, "Rejects": rejects, "MoreRejects": sum.Rejected > int64(len(rejects))})
	return nil
}
