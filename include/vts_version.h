/* vts_version.h: the release this tree builds. */
#ifndef VTS_VERSION_H
#define VTS_VERSION_H

#define VTS_VERSION "0.1.0"

#endif /* VTS_VERSION_H */
