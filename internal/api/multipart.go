package api

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"unid/internal/problem"
)

// maxFormField bounds a text field of a multipart body.
const maxFormField = 1024

// multipartForm names the parts readMultipart keeps: text fields and
// files. A file is read only to one byte past FileMax, for the service to
// refuse; a field only to maxFormField bytes; other parts are dropped.
type multipartForm struct {
	Fields  map[string]*string
	Files   map[string]*[]byte
	FileMax int64
}

// readMultipart reads a multipart/form-data body of at most maxBody bytes
// into f (the appeals' bodies). Its error is the problem to answer.
func readMultipart(w http.ResponseWriter, r *http.Request, maxBody int64, f multipartForm) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		return problem.New(problem.Invalid, "content_type_multipart")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return problem.New(problem.Invalid, "content_type_multipart")
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return bodyProblem(err)
		}
		limit := int64(maxFormField)
		file, isFile := f.Files[p.FormName()]
		if isFile {
			limit = f.FileMax + 1
		}
		data, err := io.ReadAll(io.LimitReader(p, limit))
		if err == nil {
			_, err = io.Copy(io.Discard, p)
		}
		if err != nil {
			return bodyProblem(err)
		}
		if isFile {
			*file = data
		} else if field, ok := f.Fields[p.FormName()]; ok {
			*field = string(data)
		}
	}
}

// bodyProblem is the answer to a body that could not be read.
func bodyProblem(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return problem.New(problem.TooLarge, "body_too_large")
	}
	return &problem.Problem{Kind: problem.Invalid, Code: "content_type_multipart", Err: err}
}
