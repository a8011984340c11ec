// The whole public API of jarvis in one include (each header also stands alone).
#pragma once

#include "jarvis/chat_message.h"
#include "jarvis/embed.h"
#include "jarvis/monitor.h"
#include "jarvis/request.h"
#include "jarvis/runtime.h"
#include "jarvis/runtime_options.h"
#include "jarvis/sampling_params.h"
#include "jarvis/server.h"
#include "jarvis/status.h"
#include "jarvis/system_stats.h"
#include "jarvis/version.h"
