#include "mapping/products/roads.h"
