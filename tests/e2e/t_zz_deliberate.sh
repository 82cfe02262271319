file_setup() { guests_boot "$E2E_HOST" z1; e2e_host h9; th_guest_start h9 z9; }
test_fails_on_purpose() { sleep 300 & probe_shift "$E2E_HOST" z1 -1; assert_eq 1 2 "deliberate"; }
test_long() { note "long test starts"; sleep 120; }
test_after() { :; }
