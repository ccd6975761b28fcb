package serve

// This file holds POST /v1/models/{name}/feedback?label=CLASS: the body
// (one image file, or one text) is checked to decode as the model's input
// and stored under the run's feedback/<class>/ folder (the class name
// path-escaped), named by its SHA-256, written atomically; the same input sent twice is stored once.
// The folder is laid out as an image (or text) class folder, which kiln
// train reads. It leaves out moving an input between classes: a second
// label for the same bytes is a second file.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
)

// feedbackAnswer is the answer to a stored feedback.
type feedbackAnswer struct {
	Label  string `json:"label"`
	Stored string `json:"stored"` // the file, relative to the run directory
	New    bool   `json:"new"`    // false when the same input was already stored with this label
}

// imageExt returns the file extension of an image's bytes by its magic
// number, or "" for none kiln reads.
func imageExt(b []byte) string {
	for _, f := range []struct{ magic, ext string }{
		{"\x89PNG\r\n\x1a\n", ".png"}, {"\xff\xd8\xff", ".jpg"}, {"GIF8", ".gif"}, {"BM", ".bmp"},
		{"II*\x00", ".tif"}, {"MM\x00*", ".tif"}, {"P5", ".pgm"}, {"P6", ".ppm"}, {"P2", ".pgm"}, {"P3", ".ppm"},
	} {
		if bytes.HasPrefix(b, []byte(f.magic)) {
			return f.ext
		}
	}
	if len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP" {
		return ".webp"
	}
	return ""
}

func (s *Server) feedback(w http.ResponseWriter, r *http.Request) {
	s.answer(w, r.PathValue("name"), "v1_feedback", func(sv *served) (any, int, string) {
		return s.feedbackBody(w, r, sv)
	})
}

// feedbackBody checks and stores one feedback request.
func (s *Server) feedbackBody(w http.ResponseWriter, r *http.Request, sv *served) (*feedbackAnswer, int, string) {
	m := sv.m
	if m.FeedbackDir == "" {
		return nil, http.StatusForbidden, fmt.Sprintf("model %s takes no feedback", m.Name)
	}
	if s.draining.Load() {
		return nil, http.StatusServiceUnavailable, "the server is shutting down"
	}
	label := r.URL.Query().Get("label")
	if !slices.Contains(m.Classes, label) {
		return nil, http.StatusBadRequest, fmt.Sprintf("label=%q: want one of the model's classes %s", label, strings.Join(m.Classes, ", "))
	}
	body, code, msg := s.readBody(w, r)
	if code != http.StatusOK {
		return nil, code, msg
	}
	ext := ".txt"
	if m.Image != nil {
		if ext = imageExt(body); ext == "" {
			return nil, http.StatusBadRequest, "the body is not an image file (JPEG, PNG, GIF, BMP, TIFF, WebP, PGM/PPM)"
		}
	}
	if err := decodeInput(m, predictInput{"body", body}, make([]float32, m.size())); err != nil {
		return nil, http.StatusBadRequest, err.Error()
	}
	sum := sha256.Sum256(body)
	// The class's folder: its name path-escaped, so that a class such as
	// "T-shirt/top" has one (source reads them back unescaped).
	folder := url.PathEscape(label)
	if folder == "." || folder == ".." || filepath.Base(folder) != folder {
		return nil, http.StatusBadRequest, fmt.Sprintf("label=%q cannot name a folder", label)
	}
	file := hex.EncodeToString(sum[:16]) + ext
	rel := filepath.Join(FeedbackFolder, folder, file)
	path := filepath.Join(m.FeedbackDir, folder, file)
	if _, err := os.Stat(path); err == nil {
		return &feedbackAnswer{Label: label, Stored: rel, New: false}, http.StatusOK, ""
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, http.StatusInternalServerError, fmt.Sprintf("storing feedback: %v", err)
	}
	err := checkpoint.WriteFileAtomic(path, func(f io.Writer) error {
		_, err := f.Write(body)
		return err
	})
	if err != nil {
		return nil, http.StatusInternalServerError, fmt.Sprintf("storing feedback: %v", err)
	}
	return &feedbackAnswer{Label: label, Stored: rel, New: true}, http.StatusCreated, ""
}
