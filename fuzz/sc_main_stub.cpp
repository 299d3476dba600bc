// SystemC's library expects sc_main (declared extern "C" by <systemc>); the harnesses never start
// the kernel (libFuzzer has main).
extern "C" int sc_main(int, char**) { return 0; }
