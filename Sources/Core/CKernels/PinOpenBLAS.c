// SPDX-License-Identifier: Apache-2.0
//
// OpenBLAS never runs threads of its own in Tern: every OpenBLAS call runs on the caller's thread,
// and Tern's ThreadPool splits large products. Pinned once, when the program loads: shared
// libraries (libopenblas) are initialised before the program's own constructors, so this runs
// after OpenBLAS has read its environment. Weak, so a program without OpenBLAS links too.

extern void openblas_set_num_threads(int) __attribute__((weak));

__attribute__((constructor)) static void tern_pin_openblas_threads(void) {
    if (openblas_set_num_threads) openblas_set_num_threads(1);
}
