package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// upload posts a file to the import form as user.
func (b *bundle) upload(t *testing.T, user, name, content, format string) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.WriteField("format", format)
	mw.Close()
	req, err := http.NewRequest("POST", b.base+"/operations/rad-1/import", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+b.tokens[user])
	return do(t, http.DefaultClient, req)
}

// An analyst uploads the agency's file; the page says what it made of
// it, the rejected rows with their line; the items are there.
func TestImportPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantIn(t, b.get(t, "ana", "/operations/rad-1/import"), "the import page", `enctype="multipart/form-data"`, "Each row becomes a submission of nl-iru")
	csv := "url,notes\nhttps://t.me/uploaded_one,found <b>today</b>\nnot a url at all,\nhttps://t.me/example_one,again\n"
	p := b.upload(t, "ana", "finds.csv", csv, "auto")
	wantStatus(t, p, http.StatusOK, "an upload")
	wantIn(t, p, "the import's result", "finds.csv is imported", "<th scope=\"row\">New items</th><td>2</td>", "<th scope=\"row\">Rejected</th><td>1</td>", "<th scope=\"row\">3</th>")
	items := b.get(t, "ana", "/operations/rad-1/items?q=uploaded_one")
	wantIn(t, items, "the uploaded item", "t.me/uploaded_one")
	wantStatus(t, b.upload(t, "aud", "finds.csv", csv, "auto"), http.StatusForbidden, "an auditor's upload")
	p = b.upload(t, "ana", "empty.csv", "", "csv")
	wantStatus(t, p, http.StatusBadRequest, "an empty file")
	wantStatus(t, b.upload(t, "ana", "x.csv", csv, "xml"), http.StatusBadRequest, "a bad format")
	if p := b.upload(t, "ana", "big.csv", "url\n"+strings.Repeat("https://t.me/"+strings.Repeat("x", 30)+"\n", 2_400_000), "csv"); p.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a file over 64 MB: %d", p.status)
	}
}

// A STIX bundle and a MISP event go through the same form; their bad
// records are shown by their place in the document.
func TestImportPageDocuments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bundle := `{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
		{"type": "url", "spec_version": "2.1", "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "https://t.me/stix_shared_one"},
		{"type": "url", "spec_version": "2.1", "id": "url--2f0bd2c6-0d5a-5c1e-9e4f-2d3d1c0e7a11", "value": "no link here"}]}`
	p := b.upload(t, "ana", "finds.json", bundle, "auto")
	wantStatus(t, p, http.StatusOK, "a STIX upload")
	wantIn(t, p, "the STIX import's result", "<th scope=\"row\">New items</th><td>1</td>", "<th scope=\"row\">objects[1] url--2f0bd2c6-0d5a-5c1e-9e4f-2d3d1c0e7a11</th>")
	event := `{"Event": {"info": "synthetic", "Attribute": [{"type": "url", "value": "https://t.me/misp_shared_one"}, {"type": "url", "value": ""}]}}`
	p = b.upload(t, "ana", "event.json", event, "misp")
	wantStatus(t, p, http.StatusOK, "a MISP upload")
	wantIn(t, p, "the MISP import's result", "<th scope=\"row\">New items</th><td>1</td>", "Event[0] Attribute[1]")
	wantIn(t, b.get(t, "ana", "/operations/rad-1/items?q=misp_shared"), "the MISP item", "t.me/misp_shared_one")
}
