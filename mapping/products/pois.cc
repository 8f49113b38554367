#include "mapping/products/pois.h"
