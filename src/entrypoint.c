// Registers the routines that extendr_module! generates in the Rust static
// library. Calling into it from here also keeps the linker from dropping it.
void R_init_rwbridge_extendr(void *dll);
void register_extendr_panic_hook(void);

void R_init_rwbridge(void *dll) {
    register_extendr_panic_hook();
    R_init_rwbridge_extendr(dll);
}
