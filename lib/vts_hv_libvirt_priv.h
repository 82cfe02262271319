/* vts_hv_libvirt_priv.h: internals of the libvirt backend, for its unit
 * tests only. */
#ifndef VTS_HV_LIBVIRT_ALLOW_PRIV
#error "vts_hv_libvirt_priv.h is for lib/vts_hv_libvirt.c and its tests only"
#endif
#ifndef VTS_HV_LIBVIRT_PRIV_H
#define VTS_HV_LIBVIRT_PRIV_H

#include <stdint.h>

#include "vts_domxml.h"
#include "vts_error.h"

/* Map a libvirt error (virErrorNumber @vir_code, virErrorDomain @vir_domain
 * and its @message, which may be NULL) to a vmtimesync error code. */
vts_err_code vts_hv_libvirt_map_error(int vir_code, int vir_domain, const char *message);

/* Map the error of a guest agent command that took @elapsed_ns with a
 * timeout of @timeout_s: the code and, when known (@info not NULL), the
 * agent channel's state in the live domain XML decide; the @message is
 * looked at only when neither does. */
vts_err_code vts_hv_libvirt_map_agent_error(int vir_code, int vir_domain,
                                            const char *message,
                                            const vts_domxml_info *info,
                                            int64_t elapsed_ns, int timeout_s);

#endif /* VTS_HV_LIBVIRT_PRIV_H */
