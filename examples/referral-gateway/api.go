package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// maxRequestBody bounds an inbound referral request.
const maxRequestBody = 64 << 10

// referralStatus is what GET /referrals/{requestId} and POST /referrals
// answer with.
type referralStatus struct {
	RequestID string `json:"requestId"`
	State     state  `json:"state"`
	UBRN      string `json:"ubrn,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"lastError,omitempty"`
}

type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"requestId,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, requestID, msg string) {
	writeJSON(w, status, errorBody{Error: msg, RequestID: requestID})
}

func handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// decodeReferral reads and validates POST /referrals. On error it returns
// the HTTP status and a message naming every problem.
func decodeReferral(r *http.Request) (referral, int, error) {
	var ref referral
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxRequestBody))
	if err := dec.Decode(&ref); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return ref, http.StatusRequestEntityTooLarge, fmt.Errorf("request body is larger than %d bytes", maxRequestBody)
		}
		if errors.Is(err, io.EOF) {
			return ref, http.StatusBadRequest, errors.New("request body is empty; expected a JSON referral")
		}
		return ref, http.StatusBadRequest, fmt.Errorf("request body is not a JSON referral: %v", err)
	}
	if dec.More() {
		return ref, http.StatusBadRequest, errors.New("request body has more than one JSON value")
	}
	ref.RequestID = strings.TrimSpace(ref.RequestID)
	ref.NHSNumber = strings.TrimSpace(ref.NHSNumber)
	ref.ServiceID = strings.TrimSpace(ref.ServiceID)
	ref.Priority = strings.ToUpper(strings.TrimSpace(ref.Priority))
	ref.Specialty = strings.TrimSpace(ref.Specialty)
	ref.ClinicType = strings.TrimSpace(ref.ClinicType)

	var problems []string
	if err := validateRequestID(ref.RequestID); err != nil {
		problems = append(problems, err.Error())
	}
	if ref.NHSNumber == "" {
		problems = append(problems, "nhsNumber is required")
	} else if err := synthetic.ValidateNHSNumber(ref.NHSNumber); err != nil {
		problems = append(problems, "nhsNumber: "+err.Error())
	}
	if ref.ServiceID == "" {
		problems = append(problems, "serviceId is required (the e-RS service id, e.g. \"11002\")")
	}
	if ref.Priority == "" {
		ref.Priority = "ROUTINE"
	} else if !slices.Contains(priorities, ref.Priority) {
		problems = append(problems, fmt.Sprintf("priority %q is not one of %s", ref.Priority, strings.Join(priorities, ", ")))
	}
	if ref.Specialty == "" {
		problems = append(problems, "specialty is required (e.g. \"CARDIOLOGY\")")
	}
	if len(problems) > 0 {
		return ref, http.StatusBadRequest, errors.New(strings.Join(problems, "; "))
	}
	return ref, 0, nil
}

func validateRequestID(id string) error {
	if id == "" {
		return errors.New("requestId is required (the caller's unique id for this referral)")
	}
	if len(id) > 200 {
		return fmt.Errorf("requestId is %d bytes long; at most 200 are allowed", len(id))
	}
	for _, c := range id {
		if c == '/' || !unicode.IsPrint(c) || unicode.IsSpace(c) {
			return fmt.Errorf("requestId %q may not contain '/', spaces or control characters", id)
		}
	}
	return nil
}
