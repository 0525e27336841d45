// SPDX-License-Identifier: Apache-2.0
//
// Debian's libpng (libpng-dev) and libjpeg (libjpeg-dev, libjpeg-turbo). jpeglib.h needs FILE and
// size_t declared before it, hence stdio.h first.
#include <stdio.h>
#include <png.h>
#include <jpeglib.h>
