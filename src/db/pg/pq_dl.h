/*
 * sluice: libpq opened on first use (base/dl.h). Included after
 * <libpq-fe.h>, this header turns each PQ function the driver calls into
 * a call through a slot typed after libpq's own prototype; sl_pq_load()
 * fills the slots. Every way into libpq goes through sl_pg_open(), which
 * loads it first. A function newly used by the driver needs its line in
 * SL_PQ_FUNCS and a #define below (the link fails without the latter).
 */
#ifndef SLUICE_DB_PG_PQ_DL_H
#define SLUICE_DB_PG_PQ_DL_H

#include <libpq-fe.h>

#include "base/dl.h"

/** The libpq functions the driver calls: X(name) for each. */
#define SL_PQ_FUNCS(X)            \
	X(PQcancel)               \
	X(PQclear)                \
	X(PQcmdStatus)            \
	X(PQcmdTuples)            \
	X(PQconnectPoll)          \
	X(PQconnectStartParams)   \
	X(PQconninfoFree)         \
	X(PQconninfoParse)        \
	X(PQconsumeInput)         \
	X(PQenterPipelineMode)    \
	X(PQerrorMessage)         \
	X(PQexitPipelineMode)     \
	X(PQfformat)              \
	X(PQfinish)               \
	X(PQflush)                \
	X(PQfname)                \
	X(PQfreeCancel)           \
	X(PQfreemem)              \
	X(PQftype)                \
	X(PQgetCancel)            \
	X(PQgetResult)            \
	X(PQgetisnull)            \
	X(PQgetlength)            \
	X(PQgetvalue)             \
	X(PQgssEncInUse)          \
	X(PQisBusy)               \
	X(PQnfields)              \
	X(PQnparams)              \
	X(PQntuples)              \
	X(PQparamtype)            \
	X(PQpipelineSync)         \
	X(PQputCopyData)          \
	X(PQputCopyEnd)           \
	X(PQresStatus)            \
	X(PQresultErrorField)     \
	X(PQresultErrorMessage)   \
	X(PQresultStatus)         \
	X(PQsendDescribePrepared) \
	X(PQsendFlushRequest)     \
	X(PQsendPrepare)          \
	X(PQsendQuery)            \
	X(PQsendQueryParams)      \
	X(PQsendQueryPrepared)    \
	X(PQserverVersion)        \
	X(PQsetNoticeProcessor)   \
	X(PQsetnonblocking)       \
	X(PQsocket)               \
	X(PQsslInUse)             \
	X(PQstatus)

/** Declares the slot of libpq's function `n`, typed after its prototype. */
#define SL_PQ_DECLARE(n) extern __typeof__(&n) sl_libpq_##n;
SL_PQ_FUNCS(SL_PQ_DECLARE)
#undef SL_PQ_DECLARE

/** libpq, libpq.so.5 (the SONAME of Debian's libpq5); tests may rename it. */
extern struct sl_dl_lib sl_pq_lib;

/**
 * Load libpq once for the process. 0, or -1 with the diagnostic set
 * ("cannot load libpq.so.5 (needed for PostgreSQL): ...").
 */
int sl_pq_load(void);

#define PQcancel               sl_libpq_PQcancel
#define PQclear                sl_libpq_PQclear
#define PQcmdStatus            sl_libpq_PQcmdStatus
#define PQcmdTuples            sl_libpq_PQcmdTuples
#define PQconnectPoll          sl_libpq_PQconnectPoll
#define PQconnectStartParams   sl_libpq_PQconnectStartParams
#define PQconninfoFree         sl_libpq_PQconninfoFree
#define PQconninfoParse        sl_libpq_PQconninfoParse
#define PQconsumeInput         sl_libpq_PQconsumeInput
#define PQenterPipelineMode    sl_libpq_PQenterPipelineMode
#define PQerrorMessage         sl_libpq_PQerrorMessage
#define PQexitPipelineMode     sl_libpq_PQexitPipelineMode
#define PQfformat              sl_libpq_PQfformat
#define PQfinish               sl_libpq_PQfinish
#define PQflush                sl_libpq_PQflush
#define PQfname                sl_libpq_PQfname
#define PQfreeCancel           sl_libpq_PQfreeCancel
#define PQfreemem              sl_libpq_PQfreemem
#define PQftype                sl_libpq_PQftype
#define PQgetCancel            sl_libpq_PQgetCancel
#define PQgetResult            sl_libpq_PQgetResult
#define PQgetisnull            sl_libpq_PQgetisnull
#define PQgetlength            sl_libpq_PQgetlength
#define PQgetvalue             sl_libpq_PQgetvalue
#define PQgssEncInUse          sl_libpq_PQgssEncInUse
#define PQisBusy               sl_libpq_PQisBusy
#define PQnfields              sl_libpq_PQnfields
#define PQnparams              sl_libpq_PQnparams
#define PQntuples              sl_libpq_PQntuples
#define PQparamtype            sl_libpq_PQparamtype
#define PQpipelineSync         sl_libpq_PQpipelineSync
#define PQputCopyData          sl_libpq_PQputCopyData
#define PQputCopyEnd           sl_libpq_PQputCopyEnd
#define PQresStatus            sl_libpq_PQresStatus
#define PQresultErrorField     sl_libpq_PQresultErrorField
#define PQresultErrorMessage   sl_libpq_PQresultErrorMessage
#define PQresultStatus         sl_libpq_PQresultStatus
#define PQsendDescribePrepared sl_libpq_PQsendDescribePrepared
#define PQsendFlushRequest     sl_libpq_PQsendFlushRequest
#define PQsendPrepare          sl_libpq_PQsendPrepare
#define PQsendQuery            sl_libpq_PQsendQuery
#define PQsendQueryParams      sl_libpq_PQsendQueryParams
#define PQsendQueryPrepared    sl_libpq_PQsendQueryPrepared
#define PQserverVersion        sl_libpq_PQserverVersion
#define PQsetNoticeProcessor   sl_libpq_PQsetNoticeProcessor
#define PQsetnonblocking       sl_libpq_PQsetnonblocking
#define PQsocket               sl_libpq_PQsocket
#define PQsslInUse             sl_libpq_PQsslInUse
#define PQstatus               sl_libpq_PQstatus

#endif
