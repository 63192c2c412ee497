using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.EntityFrameworkCore;
using EfNotify.Sample.Web.Data;

namespace EfNotify.Sample.Web;

/// <summary>
/// Resource-based authorization, as EfNotify's /pusher/auth asks for it ("Read" with the room as resource):
/// only members may read a room, so only members can subscribe to its chat.
/// </summary>
internal sealed class RoomMemberHandler(SampleContext db) : AuthorizationHandler<OperationAuthorizationRequirement, Room>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, OperationAuthorizationRequirement requirement, Room resource)
    {
        var user = context.User.Identity?.Name;
        if (requirement.Name == "Read" && user is not null
            && await db.RoomMembers.AnyAsync(m => m.RoomId == resource.Id && m.UserName == user))
        {
            context.Succeed(requirement);
        }
    }
}
