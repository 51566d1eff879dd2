// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, ...) are macros over addresses of global structs,
// which Swift cannot import. These inline functions hand them to Swift as ordinary values.
#ifndef SWIFTGAN_CMPI_SHIM_H
#define SWIFTGAN_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm swiftgan_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype swiftgan_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype swiftgan_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype swiftgan_byte(void) { return MPI_BYTE; }
static inline MPI_Op swiftgan_sum(void) { return MPI_SUM; }
static inline MPI_Op swiftgan_max(void) { return MPI_MAX; }
static inline void *swiftgan_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Request swiftgan_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *swiftgan_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int swiftgan_success(void) { return MPI_SUCCESS; }
static inline int swiftgan_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
static inline int swiftgan_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int swiftgan_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline MPI_Errhandler swiftgan_errors_return(void) { return MPI_ERRORS_RETURN; }

#endif
