package gpconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// npmDir is testdata/npm next to this file.
func npmDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "testdata", "npm")
}

// TestFHIRKitClient drives the mock with fhir-kit-client, a FHIR client
// nobody here wrote (testdata/npm/fhirkit.mjs): metadata, patient search and
// read, $gpc.getstructuredrecord through its operation API, a slot search
// and a booking.
func TestFHIRKitClient(t *testing.T) {
	dir := npmDir(t)
	const hint = "run: npm ci --prefix mocks/gpconnect/testdata/npm"
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "fhir-kit-client")); err != nil {
		if os.Getenv("SHAKEDOWN_REQUIRE_NPM") == "1" {
			t.Fatalf("fhir-kit-client is not installed (%v); %s", err, hint)
		}
		t.Skip(hint)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("SHAKEDOWN_REQUIRE_NPM") == "1" {
			t.Fatalf("node is not on PATH: %v", err)
		}
		t.Skip("node is not on PATH; install Node.js, then " + hint)
	}

	// The real clock: the script books a slot in the week after today.
	m := New(WithSeed(11), WithPatients(5))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m.Start(l)
	t.Cleanup(func() { require.NoError(t, m.Close()) })

	c := m.Credentials()
	nhs := m.Patients()[2].NHSNumber
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "fhirkit.mjs", m.URL(), c.ProviderASID, c.ConsumerASID, c.ConsumerODS, nhs)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "fhirkit.mjs failed\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())

	var summary struct {
		OK            bool   `json:"ok"`
		PatientID     string `json:"patientId"`
		RecordEntries int    `json:"recordEntries"`
		AppointmentID string `json:"appointmentId"`
	}
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &summary), "stdout: %s", stdout.String())
	require.True(t, summary.OK)
	require.Equal(t, "3", summary.PatientID)
	require.Positive(t, summary.RecordEntries)

	// What the client did reached the mock.
	var served, booked bool
	for _, e := range m.Journal().Entries() {
		switch e.Kind {
		case "record.served":
			served = e.Keys[keyNHSNumber] == nhs
		case "appointment.booked":
			booked = e.Keys[keyAppointmentID] == summary.AppointmentID && e.Keys[keyNHSNumber] == nhs
		}
	}
	require.True(t, served, "the structured record was served")
	require.True(t, booked, "the appointment was booked")
}
