package load

// WaitingPatients exposes how many patients w holds for arrivals that have
// not asked yet.
func WaitingPatients(w *ReferPatient) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.waiting)
}
