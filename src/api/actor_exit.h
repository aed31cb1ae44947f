// How ray::ExitActor leaves an actor method: it throws ActorExitRequested through the user's code
// up to the runtime that called the method. Not a std::exception, so that
// `catch (const std::exception&)` in user code lets it pass.
#pragma once

namespace moray::api {

struct ActorExitRequested {};

}  // namespace moray::api
