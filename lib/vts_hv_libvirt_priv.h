/* vts_hv_libvirt_priv.h: internals of the libvirt backend, for its unit
 * tests only. */
#ifndef VTS_HV_LIBVIRT_ALLOW_PRIV
#error "vts_hv_libvirt_priv.h is for lib/vts_hv_libvirt.c and its tests only"
#endif
#ifndef VTS_HV_LIBVIRT_PRIV_H
#define VTS_HV_LIBVIRT_PRIV_H

#include "vmtimesync/vts_error.h"

/* Map a libvirt error (virErrorNumber @vir_code, virErrorDomain @vir_domain
 * and its @message, which may be NULL) to a vmtimesync error code. */
vts_err_code vts_hv_libvirt_map_error(int vir_code, int vir_domain, const char *message);

#endif /* VTS_HV_LIBVIRT_PRIV_H */
