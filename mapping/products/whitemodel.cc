#include "mapping/products/whitemodel.h"
